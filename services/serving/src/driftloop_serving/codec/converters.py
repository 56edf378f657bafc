"""Every proto <-> domain mapping of the serving service, in one place."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from google.protobuf import timestamp_pb2

from driftloop.common.v1 import common_pb2
from driftloop.platform.datatypes import DATATYPES
from driftloop.platform.errors import InvalidArgument
from driftloop.registry.v1 import model_pb2
from driftloop.serving.v1 import admin_service_pb2, events_pb2
from driftloop_serving.domain.models import ServedModel, VersionInfo
from driftloop_serving.domain.predictions import Scored, columns
from driftloop_serving.domain.routing import Mode, Role, TrafficSplit
from driftloop_serving.domain.tensors import DTYPES, element_count
from driftloop_serving.service.inference import InferInput, InferRequest, InferResult
from inference import grpc_predict_v2_pb2 as pb

#: OIP datatype -> the typed-contents field carrying it.
CONTENTS_FIELD = {d.oip: d.contents for d in DATATYPES if d.numpy and d.contents}
DATATYPE_OF = {dtype: name for name, dtype in DTYPES.items()}

ROLE_PB = {
    Role.CHAMPION: common_pb2.MODEL_ROLE_CHAMPION,
    Role.CANDIDATE: common_pb2.MODEL_ROLE_CANDIDATE,
    Role.SHADOW: common_pb2.MODEL_ROLE_SHADOW,
}
MODE_PB = {
    Mode.CANARY: admin_service_pb2.TRAFFIC_MODE_CANARY,
    Mode.SHADOW: admin_service_pb2.TRAFFIC_MODE_SHADOW,
}
MODE_OF: dict[int, Mode] = {v: k for k, v in MODE_PB.items()}
TASK_OF = {
    common_pb2.TASK_KIND_CLASSIFICATION: "classification",
    common_pb2.TASK_KIND_REGRESSION: "regression",
}
SOURCE_PB = {
    "grpc": events_pb2.PREDICTION_SOURCE_GRPC,
    "stream": events_pb2.PREDICTION_SOURCE_STREAM,
}


def version_info(v: model_pb2.ModelVersion) -> VersionInfo:
    """The serving view of a registry ``ModelVersion``."""
    return VersionInfo(
        model=v.model,
        version=v.version,
        sha256=v.artifact_sha256,
        size=v.artifact_size,
        feature_view=v.feature_view,
        feature_view_version=v.feature_view_version,
        task=TASK_OF.get(v.task, ""),
    )


def infer_request(request: pb.ModelInferRequest) -> InferRequest:
    """A ``ModelInferRequest`` as a domain request, tensors decoded."""
    raw = request.raw_input_contents
    if raw and len(raw) != len(request.inputs):
        raise InvalidArgument(
            f"raw_input_contents has {len(raw)} entries for {len(request.inputs)} inputs"
        )
    inputs = []
    for i, tensor in enumerate(request.inputs):
        shape = tuple(tensor.shape)
        dtype = DTYPES.get(tensor.datatype)
        if dtype is None:
            raise InvalidArgument(
                f"input {tensor.name!r}: unsupported datatype {tensor.datatype!r}"
            )
        count = element_count(tensor.name, shape)
        if raw:
            if tensor.HasField("contents"):
                raise InvalidArgument(f"input {tensor.name!r}: both contents and raw contents")
            if len(raw[i]) != count * dtype.itemsize:
                raise InvalidArgument(
                    f"input {tensor.name!r}: raw contents have {len(raw[i])} bytes, shape "
                    f"{list(shape)} of {tensor.datatype} needs {count * dtype.itemsize}"
                )
            data = np.frombuffer(raw[i], dtype=dtype)
        else:
            field = CONTENTS_FIELD.get(tensor.datatype)
            if field is None:
                raise InvalidArgument(
                    f"input {tensor.name!r}: {tensor.datatype} needs raw_input_contents"
                )
            values = getattr(tensor.contents, field)
            if len(values) != count:
                raise InvalidArgument(
                    f"input {tensor.name!r}: {len(values)} values in {field}, shape "
                    f"{list(shape)} needs {count}"
                )
            data = np.array(values, dtype=dtype)
        inputs.append(InferInput(tensor.name, tensor.datatype, shape, data.reshape(shape)))
    params = request.parameters
    entity, view = params.get("entity_id"), params.get("feature_view")
    return InferRequest(
        model=request.model_name,
        version=request.model_version,
        id=request.id,
        entity_id=entity.string_param if entity is not None else "",
        view=view.string_param if view is not None else "",
        inputs=inputs,
        outputs=[o.name for o in request.outputs],
    )


def infer_response(result: InferResult, raw: bool) -> pb.ModelInferResponse:
    """The response; raw output contents when the request sent raw inputs."""
    response = pb.ModelInferResponse(
        model_name=result.model, model_version=str(result.version), id=result.id
    )
    response.parameters["model_version"].string_param = str(result.version)
    response.parameters["role"].string_param = result.role.value
    if result.vector_record_id:
        response.parameters["vector_record_id"].string_param = result.vector_record_id
    for name, array in result.outputs:
        out = response.outputs.add(name=name, datatype=DATATYPE_OF.get(array.dtype, "BYTES"))
        out.shape.extend(array.shape)
        if raw:
            response.raw_output_contents.append(np.ascontiguousarray(array).tobytes())
        else:
            getattr(out.contents, CONTENTS_FIELD[out.datatype]).extend(array.ravel().tolist())
    return response


def stream_error(request: pb.ModelInferRequest, message: str) -> pb.ModelStreamInferResponse:
    """A failed request's answer on a stream: the reason, and the request's
    id, model name and version so that the client can tell which one failed."""
    return pb.ModelStreamInferResponse(
        error_message=message,
        infer_response=pb.ModelInferResponse(
            model_name=request.model_name, model_version=request.model_version, id=request.id
        ),
    )


def prediction_event(
    scored: Scored, new_id: Callable[[], str], source: str = "serving"
) -> events_pb2.PredictionMade | None:
    """The call's ``PredictionMade``: one event, whatever its row count (a
    multi-row call's rows travel in ``rows``); none for a call without rows.
    ``new_id`` makes the event id. The record id is the causation and
    correlation id (as ``new_meta`` does)."""
    cols = columns(scored)
    if not cols.count:
        return None
    seconds = int(scored.at)
    at = timestamp_pb2.Timestamp(seconds=seconds, nanos=int((scored.at - seconds) * 1e9))
    event = events_pb2.PredictionMade(
        meta=common_pb2.EventMeta(
            event_id=new_id(),
            causation_id=scored.record_id,
            correlation_id=scored.record_id,
            occurred_at=at,
            source=source,
        ),
        request_id=scored.request_id,
        record_id=scored.record_id,
        entity_id=scored.entity_id,
        model=common_pb2.ModelRef(name=scored.info.model, version=scored.info.version),
        role=ROLE_PB[scored.role],
        feature_names=scored.feature_names,
        latency_ms=scored.latency_ms,
        source=SOURCE_PB[scored.source],
        predicted_at=at,
        record_id_generated=scored.generated_id,
        vector_record_id=scored.vector_record_id,
    )
    if cols.count == 1:
        event.features.extend(cols.features)
        event.prediction = cols.predictions[0]
        event.probabilities.extend(cols.probabilities)
    else:
        event.rows.count = cols.count
        event.rows.features.extend(cols.features)
        event.rows.predictions.extend(cols.predictions)
        event.rows.probabilities.extend(cols.probabilities)
    return event


def rollout_state(served: ServedModel) -> admin_service_pb2.RolloutState:
    split = served.split
    state = admin_service_pb2.RolloutState(
        model=served.name,
        candidate_share=split.share,
        mode=MODE_PB[split.mode],
        pinned=split.pinned,
        rollout_id=split.rollout_id,
        loaded_versions=served.loaded_versions(),
    )
    if served.champion is not None:
        state.champion.CopyFrom(
            common_pb2.ModelRef(name=served.name, version=served.champion.version)
        )
    if served.candidate is not None:
        state.candidate.CopyFrom(
            common_pb2.ModelRef(name=served.name, version=served.candidate.version)
        )
    return state


def mode_of(value: int, field: str = "mode") -> Mode:
    """A proto traffic mode; unspecified means canary."""
    if value == admin_service_pb2.TRAFFIC_MODE_UNSPECIFIED:
        return Mode.CANARY
    if value not in MODE_OF:
        raise InvalidArgument(f"{field}: unknown traffic mode {value}")
    return MODE_OF[value]


def model_metadata(name: str, versions: list[int], loaded: object) -> pb.ModelMetadataResponse:
    """Versions, platform and the signature read from the ONNX session."""
    runner = loaded.runner  # type: ignore[attr-defined]
    return pb.ModelMetadataResponse(
        name=name,
        versions=[str(v) for v in versions],
        platform="onnxruntime_onnx",
        inputs=[
            pb.ModelMetadataResponse.TensorMetadata(
                name=s.name, datatype=s.datatype, shape=list(s.shape)
            )
            for s in runner.inputs
        ],
        outputs=[
            pb.ModelMetadataResponse.TensorMetadata(
                name=s.name, datatype=s.datatype, shape=list(s.shape)
            )
            for s in runner.outputs
        ],
    )


# ---------------------------------------------------------------- lifecycle events


def model_loaded(
    meta: common_pb2.EventMeta, info: VersionInfo, role: Role, load_ms: float
) -> events_pb2.ModelLoaded:
    return events_pb2.ModelLoaded(
        meta=meta,
        model=common_pb2.ModelRef(name=info.model, version=info.version),
        role=ROLE_PB[role],
        load_ms=load_ms,
    )


def model_load_failed(
    meta: common_pb2.EventMeta, info: VersionInfo, reason: str
) -> events_pb2.ModelLoadFailed:
    return events_pb2.ModelLoadFailed(
        meta=meta,
        model=common_pb2.ModelRef(name=info.model, version=info.version),
        reason=reason,
    )


def registry_answer_lacks_model(
    meta: common_pb2.EventMeta, info: VersionInfo, alias: str, reason: str
) -> events_pb2.RegistryAnswerLacksModel:
    return events_pb2.RegistryAnswerLacksModel(
        meta=meta,
        model=common_pb2.ModelRef(name=info.model, version=info.version),
        alias=alias,
        reason=reason,
    )


def traffic_split_pinned(
    meta: common_pb2.EventMeta, model: str, pin: TrafficSplit | None, replica: str
) -> events_pb2.TrafficSplitPinned:
    """A pin set (``pin``) or cleared (None)."""
    event = events_pb2.TrafficSplitPinned(
        meta=meta, model=model, pinned=pin is not None, replica=replica
    )
    if pin is not None:
        event.candidate_share = pin.share
        event.mode = MODE_PB[pin.mode]
    return event
