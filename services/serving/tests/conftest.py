"""Fixtures of the serving tests: ONNX models built here, a fake registry
served over real gRPC, and the serving use cases behind a real gRPC server."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest

from driftloop.common.v1 import common_pb2
from driftloop.feature.v1 import feature_service_pb2, feature_service_pb2_grpc
from driftloop.platform.errors import NotFound, Unavailable
from driftloop.platform.grpc_client import channel
from driftloop.platform.grpc_server import GrpcServer
from driftloop.platform.settings import GrpcSettings, KafkaSettings
from driftloop.platform.testing import free_port, kafka_env, unique
from driftloop.registry.v1 import model_pb2, registry_service_pb2, registry_service_pb2_grpc
from driftloop.serving.v1 import admin_service_pb2_grpc
from driftloop_serving.adapters.features import GrpcFeatures
from driftloop_serving.adapters.onnx_runner import OnnxLoader
from driftloop_serving.adapters.registry import GrpcRegistry
from driftloop_serving.codec.converters import version_info
from driftloop_serving.domain.models import Catalog, VersionInfo
from driftloop_serving.domain.predictions import Scored
from driftloop_serving.domain.routing import Mode, Role, TrafficSplit
from driftloop_serving.entrypoints.admin import AdminServicer
from driftloop_serving.entrypoints.oip import InferenceServicer
from driftloop_serving.service.admin import Admin
from driftloop_serving.service.entities import EntityInputs
from driftloop_serving.service.inference import Predictor
from driftloop_serving.service.lifecycle import Lifecycle
from driftloop_serving.service.predictions import PredictionSink
from driftloop_serving.service.rollouts import Rollouts
from inference import grpc_predict_v2_pb2_grpc

WIDTH = 20
MAX_VECTOR_AGE_S = 60.0


def lr_model(seed: int, width: int = WIDTH) -> bytes:
    """A logistic regression on ``width`` features, exported the way training
    does: input ``input`` FP32 [-1, width], outputs ``label`` and ``probabilities``."""
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(400, width)).astype(np.float32)
    y = (x @ rng.normal(size=width) > 0).astype(np.int64)
    model = LogisticRegression(max_iter=200).fit(x, y)
    onx = to_onnx(model, x[:1], options={id(model): {"zipmap": False}})
    return _rename_input(onx, "input").SerializeToString()


def _rename_input(onx: Any, new: str) -> Any:
    old = onx.graph.input[0].name
    onx.graph.input[0].name = new
    for node in onx.graph.node:
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new
    onx.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "N"
    return onx


def dtype_model() -> bytes:
    """A model with one input and one output per datatype (FP32, FP64, INT64,
    INT32, BOOL), each of shape [-1, 2]; the output echoes (BOOL: negates)."""
    from onnx import TensorProto, helper

    kinds = [
        ("f32", TensorProto.FLOAT),
        ("f64", TensorProto.DOUBLE),
        ("i64", TensorProto.INT64),
        ("i32", TensorProto.INT32),
        ("b", TensorProto.BOOL),
    ]
    inputs = [helper.make_tensor_value_info(f"x_{n}", t, ["N", 2]) for n, t in kinds]
    outputs = [helper.make_tensor_value_info(f"y_{n}", t, ["N", 2]) for n, t in kinds]
    nodes = [
        helper.make_node("Not" if n == "b" else "Identity", [f"x_{n}"], [f"y_{n}"])
        for n, _ in kinds
    ]
    graph = helper.make_graph(nodes, "dtypes", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


@pytest.fixture(scope="session")
def artifacts() -> dict[str, bytes]:
    return {"v1": lr_model(1), "v2": lr_model(2), "dtypes": dtype_model()}


class FakeRegistry(registry_service_pb2_grpc.RegistryServiceServicer):
    """The registry's read side, in memory: versions, aliases, artifacts."""

    def __init__(self) -> None:
        self.versions: dict[tuple[str, int], model_pb2.ModelVersion] = {}
        self.blobs: dict[tuple[str, int], bytes] = {}
        self.aliases: dict[str, dict[str, int]] = {}
        self.lie_sha: dict[tuple[str, int], str] = {}
        self.gate: asyncio.Event | None = None  # when set, downloads wait for it
        self.downloads = 0
        self.requested = 0  # downloads asked for, counted before the gate

    def add(
        self,
        model: str,
        version: int,
        data: bytes,
        *,
        feature_view: str = "",
        feature_view_version: int = 0,
        sha256: str | None = None,
    ) -> model_pb2.ModelVersion:
        mv = model_pb2.ModelVersion(
            model=model,
            version=version,
            artifact_sha256=hashlib.sha256(data).hexdigest() if sha256 is None else sha256,
            artifact_size=len(data),
            feature_view=feature_view,
            feature_view_version=feature_view_version,
            task=common_pb2.TASK_KIND_CLASSIFICATION,
        )
        self.versions[(model, version)] = mv
        self.blobs[(model, version)] = data
        return mv

    def info(self, model: str, version: int) -> VersionInfo:
        return version_info(self.versions[(model, version)])

    async def DownloadArtifact(self, request, context):
        key = (request.model, request.version)
        if key not in self.blobs:
            raise NotFound(f"{key} not found")
        self.requested += 1
        if self.gate is not None:
            await self.gate.wait()
        self.downloads += 1
        data = self.blobs[key]
        sha = self.lie_sha.get(key, hashlib.sha256(data).hexdigest())
        for i in range(0, max(len(data), 1), 64 * 1024):
            chunk = registry_service_pb2.ArtifactChunk(data=data[i : i + 64 * 1024])
            if i == 0:
                chunk.sha256, chunk.size = sha, len(data)
            yield chunk

    async def GetModelVersion(self, request, context):
        version = request.version or self.aliases.get(request.model, {}).get(request.alias, 0)
        key = (request.model, version)
        if key not in self.versions:
            raise NotFound(f"{key} not found")
        return self.versions[key]

    async def ListModels(self, request, context):
        return registry_service_pb2.ListModelsResponse(
            models=[
                registry_service_pb2.ModelSummary(name=name, aliases=aliases)
                for name, aliases in self.aliases.items()
            ]
        )


class FakeFeatures(feature_service_pb2_grpc.FeatureServiceServicer):
    """The feature service's online lookup, in memory."""

    def __init__(self) -> None:
        self.view_versions: dict[str, int] = {}
        self.names: dict[str, list[str]] = {}
        # (view, entity) -> (values, record id, age in seconds)
        self.vectors: dict[tuple[str, str], tuple[list[float], str, float]] = {}
        self.lookups = 0

    def put(self, view: str, entity: str, values: list[float], record_id: str, age_s=0.0):
        self.view_versions.setdefault(view, 1)
        self.names.setdefault(view, [f"f{i}" for i in range(len(values))])
        self.vectors[(view, entity)] = (values, record_id, age_s)

    async def GetOnlineFeatures(self, request, context):
        self.lookups += 1
        if request.view not in self.view_versions:
            raise NotFound(f"view: no feature view {request.view!r}")
        reply = feature_service_pb2.GetOnlineFeaturesResponse(
            view=request.view,
            view_version=self.view_versions[request.view],
            feature_names=self.names[request.view],
        )
        for entity in request.entity_ids:
            out = reply.vectors.add(entity_id=entity)
            found = self.vectors.get((request.view, entity))
            if found is not None:
                out.found = True
                out.values.extend(found[0])
                out.record_id = found[1]
                out.age.FromTimedelta(timedelta(seconds=found[2]))
        return reply


@dataclass
class FakeLifecycleEvents:
    loaded_events: list[tuple[str, int, Role]] = field(default_factory=list)
    failed_events: list[tuple[str, int, str]] = field(default_factory=list)
    faults: list[tuple[str, int, str]] = field(default_factory=list)
    pins: list[tuple[str, TrafficSplit | None]] = field(default_factory=list)
    pins_fail: bool = False

    async def loaded(self, info: VersionInfo, role: Role, load_ms: float) -> None:
        self.loaded_events.append((info.model, info.version, role))

    async def failed(self, info: VersionInfo, reason: str) -> None:
        self.failed_events.append((info.model, info.version, reason))

    async def registry_fault(self, info: VersionInfo, alias: str, reason: str) -> None:
        self.faults.append((info.model, info.version, alias))

    async def pin_changed(self, model: str, pin: TrafficSplit | None) -> None:
        """The pin log: records pins, or fails as a broker out of reach would."""
        if self.pins_fail:
            raise Unavailable("broker out of reach")
        self.pins.append((model, pin))


@dataclass
class Harness:
    """Serving's use cases behind a real gRPC server, with a fake registry."""

    registry: FakeRegistry
    features: FakeFeatures
    catalog: Catalog
    lifecycle: Lifecycle
    rollouts: Rollouts
    predictor: Predictor
    sink: PredictionSink
    published: list[Scored]
    events: FakeLifecycleEvents
    oip: grpc_predict_v2_pb2_grpc.GRPCInferenceServiceStub
    admin: admin_service_pb2_grpc.ServingAdminServiceStub
    address: str

    async def serve(self, model: str, alias: str, version: int) -> None:
        """Point ``alias`` at ``version`` as an AliasChanged event would."""
        self.registry.aliases.setdefault(model, {})[alias] = version
        await self.lifecycle.alias_changed(
            model, alias, version, self.registry.info(model, version)
        )


async def start_registry(features: FakeFeatures | None = None) -> tuple[FakeRegistry, GrpcServer]:
    """A fake registry (and, given one, a fake feature service) on one real server."""
    fake = FakeRegistry()
    server = GrpcServer(GrpcSettings(port=free_port()), 0)
    server.add(
        registry_service_pb2_grpc.add_RegistryServiceServicer_to_server,
        fake,
        "driftloop.registry.v1.RegistryService",
    )
    if features is not None:
        server.add(
            feature_service_pb2_grpc.add_FeatureServiceServicer_to_server,
            features,
            "driftloop.feature.v1.FeatureService",
        )
    await server.start()
    return fake, server


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    features = FakeFeatures()
    fake, registry_server = await start_registry(features)
    registry_channel = channel(f"127.0.0.1:{registry_server.port}")
    catalog = Catalog(TrafficSplit(share=0.1, mode=Mode.CANARY))
    published: list[Scored] = []

    async def publish(batch: list[Scored]) -> int:
        published.extend(batch)
        return 0

    sink = PredictionSink(publish, batch_size=100)
    sink_task = asyncio.create_task(sink.run())
    predictor = Predictor(
        catalog,
        sink,
        max_rows=1000,
        offload_rows=64,
        entities=EntityInputs(GrpcFeatures(registry_channel), max_age_s=MAX_VECTOR_AGE_S),
    )
    events = FakeLifecycleEvents()
    lifecycle = Lifecycle(catalog, GrpcRegistry(registry_channel), OnnxLoader(1, 1), events)
    rollouts = Rollouts(catalog)
    server = GrpcServer(GrpcSettings(port=free_port(), auth_token="secret"), 0)
    server.add(
        grpc_predict_v2_pb2_grpc.add_GRPCInferenceServiceServicer_to_server,
        InferenceServicer(predictor),
        "inference.GRPCInferenceService",
    )
    server.add(
        admin_service_pb2_grpc.add_ServingAdminServiceServicer_to_server,
        AdminServicer(Admin(catalog, rollouts, events)),
        "driftloop.serving.v1.ServingAdminService",
    )
    await server.start()
    address = f"127.0.0.1:{server.port}"
    client = grpc.aio.insecure_channel(address)
    try:
        yield Harness(
            fake,
            features,
            catalog,
            lifecycle,
            rollouts,
            predictor,
            sink,
            published,
            events,
            grpc_predict_v2_pb2_grpc.GRPCInferenceServiceStub(client),
            admin_service_pb2_grpc.ServingAdminServiceStub(client),
            address,
        )
    finally:
        await client.close()
        sink_task.cancel()
        await server.stop()
        await registry_server.stop()
        await registry_channel.close()


@pytest.fixture
def serving_env(
    kafka: KafkaSettings, tmp_path: Path, fake_registry: tuple[FakeRegistry, str]
) -> Callable[[int], dict[str, str]]:
    """The environment of a serving process on a port, in an integration
    test: the test broker, the fake registry, its own instance, no metrics,
    no stream scoring, no periodic reconcile, JSON logs."""

    def env(port: int) -> dict[str, str]:
        return {
            **kafka_env(kafka),
            "DRIFTLOOP_GRPC_PORT": str(port),
            "DRIFTLOOP_METRICS_ENABLED": "false",
            "DRIFTLOOP_DATA_DIR": str(tmp_path),
            "DRIFTLOOP_SERVICE_ADDRESSES": json.dumps({"registry": fake_registry[1]}),
            "DRIFTLOOP_INSTANCE_ID": unique("i"),
            "DRIFTLOOP_STREAM_SCORING": "false",
            "DRIFTLOOP_RECONCILE_INTERVAL_S": "600",
            "DRIFTLOOP_LOG_FORMAT": "json",
        }

    return env


@pytest.fixture
async def fake_upstream() -> AsyncIterator[tuple[FakeRegistry, FakeFeatures, str]]:
    """A fake registry and a fake feature service on one real gRPC port:
    (registry, features, address)."""
    features = FakeFeatures()
    fake, server = await start_registry(features)
    try:
        yield fake, features, f"127.0.0.1:{server.port}"
    finally:
        await server.stop()


@pytest.fixture
async def fake_registry() -> AsyncIterator[tuple[FakeRegistry, str]]:
    """A fake registry on a real gRPC port: (servicer, address)."""
    fake, server = await start_registry()
    try:
        yield fake, f"127.0.0.1:{server.port}"
    finally:
        await server.stop()
