"""What the demo does to the platform, through its public APIs only: ingest
records (gRPC), look up online features, predict by entity in one OIP v2
call (serving reads the entity's vector itself), submit labels,
and — in the bad-candidate mode — register a model as ops would."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import grpc
import numpy as np

from driftloop.common.v1.common_pb2 import Value
from driftloop.feature.v1 import feature_service_pb2, feature_service_pb2_grpc
from driftloop.ingestion.v1 import ingestion_service_pb2 as ing
from driftloop.ingestion.v1 import ingestion_service_pb2_grpc
from driftloop.platform.grpc_client import channel
from driftloop.registry.v1 import registry_service_pb2 as reg
from driftloop.registry.v1 import registry_service_pb2_grpc
from driftloop_cli.demo.stream import DemoRecord
from inference import grpc_predict_v2_pb2 as oip
from inference import grpc_predict_v2_pb2_grpc


def _value(v: Any) -> Value:
    if isinstance(v, bool):
        return Value(bool_value=v)
    if isinstance(v, int):
        return Value(int_value=v)
    if isinstance(v, float):
        return Value(number_value=v)
    return Value(string_value=str(v))


@dataclass(frozen=True)
class Answer:
    """What serving answered for one record."""

    label: int
    version: str
    role: str
    #: The record whose online vector serving scored ("" for a tensor request).
    vector_record_id: str = ""


class PlatformClient:
    """gRPC stubs for the services the demo talks to."""

    def __init__(self, address_of: Any) -> None:
        self._channels = [
            channel(address_of(name), deadline_s=10.0)
            for name in ("ingestion", "feature", "serving", "registry")
        ]
        ingestion, feature, serving, registry = self._channels
        self.ingestion = ingestion_service_pb2_grpc.IngestionServiceStub(ingestion)
        self.feature = feature_service_pb2_grpc.FeatureServiceStub(feature)
        self.inference = grpc_predict_v2_pb2_grpc.GRPCInferenceServiceStub(serving)
        self.registry = registry_service_pb2_grpc.RegistryServiceStub(registry)

    async def close(self) -> None:
        for ch in self._channels:
            await ch.close()

    async def ingest(self, stream: str, records: list[DemoRecord]) -> ing.IngestRecordsResponse:
        request = ing.IngestRecordsRequest(stream=stream)
        for r in records:
            item = request.records.add(id=r.record_id)
            for k, v in r.fields.items():
                item.fields.values[k].CopyFrom(_value(v))
        return await self.ingestion.IngestRecords(request)

    async def submit_labels(
        self, stream: str, labels: list[tuple[str, int]]
    ) -> ing.SubmitLabelsResponse:
        request = ing.SubmitLabelsRequest(stream=stream)
        for record_id, label in labels:
            request.labels.add(id=record_id, label=Value(int_value=label))
        return await self.ingestion.SubmitLabels(request)

    async def online_vectors(
        self, view: str, entity_ids: list[str]
    ) -> dict[str, feature_service_pb2.OnlineVector]:
        """The newest vector of each entity that has one (one batch lookup)."""
        reply = await self.feature.GetOnlineFeatures(
            feature_service_pb2.GetOnlineFeaturesRequest(view=view, entity_ids=entity_ids)
        )
        return {v.entity_id: v for v in reply.vectors if v.found}

    async def predict(self, model: str, record_id: str, entity_id: str) -> Answer:
        """One call: serving reads the entity's newest vector from the online
        store itself (no input tensor), scores it and answers."""
        request = oip.ModelInferRequest(model_name=model, id=record_id)
        request.parameters["entity_id"].string_param = entity_id
        reply = await self.inference.ModelInfer(request)
        label = _first_label(reply)
        params = reply.parameters
        role = params["role"].string_param if "role" in params else ""
        scored = params["vector_record_id"].string_param if "vector_record_id" in params else ""
        return Answer(label=label, version=reply.model_version, role=role, vector_record_id=scored)

    async def champion_width(self, model: str) -> int:
        version = await self.registry.GetModelVersion(
            reg.GetModelVersionRequest(model=model, alias="champion")
        )
        return int(version.signature.inputs[0].shape[-1])

    async def register_bad_candidate(self, model: str, width: int, reason: str) -> int:
        """Register a model that always answers class 0 and make it the
        candidate, as an ops user deploying a broken model would (on the
        champion's feature view, so that entity-keyed requests reach it)."""
        artifact = constant_model(width)
        champion = await self.registry.GetModelVersion(
            reg.GetModelVersionRequest(model=model, alias="champion")
        )

        async def parts():
            yield reg.RegisterModelVersionRequest(
                metadata=reg.RegisterModelVersionMetadata(
                    model=model,
                    feature_width=width,
                    feature_view=champion.feature_view,
                    feature_view_version=champion.feature_view_version,
                    description="demo: a deliberately bad candidate (always class 0)",
                    tags={"demo": "bad-candidate"},
                    expected_sha256=hashlib.sha256(artifact).hexdigest(),
                )
            )
            for i in range(0, len(artifact), 64 * 1024):
                yield reg.RegisterModelVersionRequest(chunk=artifact[i : i + 64 * 1024])

        version = await self.registry.RegisterModelVersion(parts())
        current = await _alias(self.registry, model, "candidate")
        await self.registry.SetAlias(
            reg.SetAliasRequest(
                model=model,
                alias="candidate",
                version=version.version,
                expected_version=current,
                reason=reason,
            )
        )
        return int(version.version)


async def _alias(stub: Any, model: str, alias: str) -> int:
    try:
        v = await stub.GetModelVersion(reg.GetModelVersionRequest(model=model, alias=alias))
        return int(v.version)
    except grpc.aio.AioRpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:
            return 0
        raise


def _first_label(reply: oip.ModelInferResponse) -> int:
    for i, out in enumerate(reply.outputs):
        if out.name == "label":
            if out.contents.int64_contents:
                return int(out.contents.int64_contents[0])
            if reply.raw_output_contents:
                return int(np.frombuffer(reply.raw_output_contents[i], dtype=np.int64)[0])
    raise ValueError("serving answered without a `label` output")


def constant_model(width: int) -> bytes:
    """An ONNX classifier of the platform's shape (input ``input`` FP32
    [-1, width]; outputs ``label`` and ``probabilities``) that always says 0."""
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("ReduceSum", ["input", "axes"], ["s"], keepdims=0),
        helper.make_node("Mul", ["s", "zero"], ["z"]),
        helper.make_node("Cast", ["z"], ["label"], to=TensorProto.INT64),
        helper.make_node("Unsqueeze", ["z", "axes"], ["z2"]),
        helper.make_node("Add", ["z2", "one"], ["p0"]),
        helper.make_node("Concat", ["p0", "z2"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "always_zero",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, width])],
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2]),
        ],
        initializer=[
            helper.make_tensor("axes", TensorProto.INT64, [1], [1]),
            helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
            helper.make_tensor("one", TensorProto.FLOAT, [], [1.0]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()
