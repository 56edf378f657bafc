"""Fixtures of the registry's tests: ONNX models made with ``onnx.helper``,
the bad-artifact corpus, the two database backends, and a registry served on
an in-process gRPC server."""

from __future__ import annotations

import asyncio
import io
import pickle
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper
from pydantic import SecretStr

from driftloop.platform.errors import InvalidArgument
from driftloop.platform.grpc_client import channel
from driftloop.platform.grpc_server import GrpcServer
from driftloop.platform.settings import GrpcSettings
from driftloop.platform.testing import free_port
from driftloop.registry.v1 import registry_service_pb2 as pb
from driftloop.registry.v1 import registry_service_pb2_grpc
from driftloop_registry.adapters import vet_worker
from driftloop_registry.adapters.artifact_store import LocalArtifactStore
from driftloop_registry.adapters.onnx_vetter import ProcessVetter
from driftloop_registry.adapters.sql_connections import (
    Database,
    PostgresDatabase,
    SqliteDatabase,
)
from driftloop_registry.adapters.sql_repository import SqlRepository
from driftloop_registry.domain.model import Signature, TensorSpec
from driftloop_registry.entrypoints.grpc_servicer import RegistryServicer
from driftloop_registry.service.outbox import OutboxRelay
from driftloop_registry.service.ports import PendingEvent
from driftloop_registry.service.registry import Limits, Registry

MAX_ARTIFACT = 256 * 1024


def linear_model(width: int = 4, seed: float = 0.1, *, dynamic_width: bool = False) -> bytes:
    """A regression model as training exports it: input [-1, width] FP32 ->
    variable [-1, 1]. ``seed`` changes the weights (and so the sha256)."""
    x = helper.make_tensor_value_info(
        "input", TensorProto.FLOAT, [None, None if dynamic_width else width]
    )
    y = helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])
    w = helper.make_tensor(
        "w", TensorProto.FLOAT, [width, 1], [seed * (i + 1) for i in range(width)]
    )
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["input", "w"], ["variable"])], "linear", [x], [y], [w]
    )
    return _serialize(graph)


def classifier_model(width: int = 3) -> bytes:
    """input [-1, width] FP32 -> label INT64 [-1] and probabilities FP32 [-1, 2]."""
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, width])
    label = helper.make_tensor_value_info("label", TensorProto.INT64, [None])
    probs = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2])
    w = helper.make_tensor("w", TensorProto.FLOAT, [width, 2], [0.5] * (2 * width))
    nodes = [
        helper.make_node("MatMul", ["input", "w"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
        helper.make_node("ArgMax", ["probabilities"], ["label2d"], axis=1, keepdims=1),
        helper.make_node("Squeeze", ["label2d", "axes"], ["label"]),
    ]
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    graph = helper.make_graph(nodes, "clf", [x], [label, probs], [w, axes])
    return _serialize(graph)


def identity_model(elem_type: int) -> bytes:
    """input [-1, 3] of ``elem_type`` (a TensorProto data type) -> output, the same."""
    x = helper.make_tensor_value_info("input", elem_type, [None, 3])
    y = helper.make_tensor_value_info("output", elem_type, [None, 3])
    graph = helper.make_graph([helper.make_node("Identity", ["input"], ["output"])], "id", [x], [y])
    return _serialize(graph)


def _serialize(graph: onnx.GraphProto) -> bytes:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    return model.SerializeToString()


def external_data_model(location: str) -> bytes:
    """A model whose weights live in a file at ``location``."""
    model = onnx.load_from_string(linear_model())
    tensor = model.graph.initializer[0]
    tensor.ClearField("float_data")
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "16")):
        tensor.external_data.add(key=key, value=value)
    return model.SerializeToString()


def huge_allocation_model() -> bytes:
    """Valid and tiny, but a run expands its input to 1e9 x 4 floats (16 GB)."""
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 4])
    y = helper.make_tensor_value_info("out", TensorProto.FLOAT, [None, 4])
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [1_000_000_000, 4])
    graph = helper.make_graph(
        [helper.make_node("Expand", ["input", "shape"], ["out"])], "huge", [x], [y], [shape]
    )
    return _serialize(graph)


def oversized_model() -> bytes:
    """A valid model just over the test size limit."""
    n = MAX_ARTIFACT // 4 + 1024
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, n])
    y = helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])
    w = helper.make_tensor("w", TensorProto.FLOAT, [n, 1], [0.5] * n)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["input", "w"], ["variable"])], "big", [x], [y], [w]
    )
    return _serialize(graph)


def _zip_of_model() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("model.onnx", linear_model())
    return buf.getvalue()


class _Harmless:
    """Pickled to make realistic pickle bytes; nothing ever unpickles them."""


#: name -> (artifact bytes, feature_width, a phrase the refusal must contain)
BAD_ARTIFACTS: dict[str, tuple[bytes, int, str]] = {
    "pickle": (pickle.dumps({"coef": [1.0, 2.0], "cls": _Harmless}), 0, "pickle"),
    "pickle_protocol_0": (pickle.dumps([1, 2, 3], protocol=0), 0, "pickle"),
    "zip": (_zip_of_model(), 0, "zip"),
    "truncated_onnx": (linear_model()[:-7], 0, "ONNX"),
    "text": (b"this is not a model at all, just text\n", 0, "ONNX"),
    "external_data_parent": (external_data_model("../x"), 0, "outside the model"),
    "external_data_absolute": (external_data_model("/etc/passwd"), 0, "absolute path"),
    "external_data_sibling": (external_data_model("weights.bin"), 0, "external data"),
    "oversized": (oversized_model(), 0, "limit"),
    "huge_allocation": (huge_allocation_model(), 0, "trial inference"),
    "wrong_width": (linear_model(width=4), 5, "width 4"),
    "dynamic_width": (linear_model(width=4, dynamic_width=True), 4, "dynamic"),
    "string_input": (identity_model(TensorProto.STRING), 0, "BYTES, which serving cannot"),
}


def requests_for(artifact: bytes, chunk: int = 64 * 1024, **metadata) -> list:
    out = [pb.RegisterModelVersionRequest(metadata=pb.RegisterModelVersionMetadata(**metadata))]
    out += [
        pb.RegisterModelVersionRequest(chunk=artifact[i : i + chunk])
        for i in range(0, len(artifact), chunk)
    ]
    return out


@dataclass
class CapturingSink:
    """An event sink that keeps what it was given (and can be told to fail)."""

    events: list[PendingEvent] = field(default_factory=list)
    fail: bool = False

    async def publish(self, events) -> None:
        if self.fail:
            raise ConnectionError("broker down")
        self.events.extend(events)


@dataclass
class Harness:
    stub: registry_service_pb2_grpc.RegistryServiceStub
    registry: Registry
    repo: SqlRepository
    store: LocalArtifactStore
    relay: OutboxRelay
    sink: CapturingSink
    data_dir: Path
    backend: str
    port: int

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def register(self, model: str, artifact: bytes | None = None, metadata=None, **kw):
        return await self.stub.RegisterModelVersion(
            _agen(requests_for(artifact or linear_model(), model=model, **(metadata or {}))),
            **kw,
        )

    def stored_files(self) -> list[Path]:
        return [p for p in self.store.root.rglob("*") if p.is_file()]


async def _agen(items):
    for item in items:
        yield item


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> Callable[[], Database]:
    """A factory of connections to one fresh database per test, on each backend.
    Against PostgreSQL it is a schema of its own, dropped afterwards."""
    made: list[Database] = []
    schema = f"reg_test_{uuid.uuid4().hex[:12]}"

    def make() -> Database:
        db: Database
        if request.param == "sqlite":
            db = SqliteDatabase(tmp_path / "registry.db")
        else:
            db = PostgresDatabase(request.getfixturevalue("postgres_url"), schema)
        made.append(db)
        return db

    make.backend = request.param  # type: ignore[attr-defined]
    yield make
    if request.param == "postgresql":
        PostgresDatabase(request.getfixturevalue("postgres_url"), schema).drop_schema()
    for db in made:
        db.close()


class InProcessVetter:
    """The vetting checks run in a thread of the test process: for tests that
    are not about vetting (it has no memory limit, so never give it the corpus)."""

    async def vet(self, path: Path, feature_width: int) -> Signature:
        try:
            sig = await asyncio.to_thread(vet_worker.vet, path, feature_width)
        except vet_worker.Refused as exc:
            raise InvalidArgument(f"artifact: {exc}") from None
        return Signature(
            tuple(TensorSpec(t["name"], t["datatype"], tuple(t["shape"])) for t in sig["inputs"]),
            tuple(TensorSpec(t["name"], t["datatype"], tuple(t["shape"])) for t in sig["outputs"]),
        )

    async def close(self) -> None:
        return None


async def _harness(
    database, tmp_path: Path, process_vetting: bool, **grpc_overrides
) -> AsyncIterator[Harness]:
    repo = SqlRepository(database())
    await repo.migrate()
    store = LocalArtifactStore(tmp_path / "artifacts")
    sink = CapturingSink()
    relay = OutboxRelay(repo, sink, poll_s=0.05)
    vetter = (
        ProcessVetter(memory_mb=1024, cpu_s=10, timeout_s=30, concurrency=1, spares=0)
        if process_vetting
        else InProcessVetter()
    )
    registry = Registry(
        repo,
        store,
        vetter,
        Limits(max_artifact_bytes=MAX_ARTIFACT),
    )
    server = GrpcServer(GrpcSettings(port=free_port(), **grpc_overrides), default_port=0)
    server.add(
        registry_service_pb2_grpc.add_RegistryServiceServicer_to_server,
        RegistryServicer(registry, chunk_bytes=32 * 1024),
        "driftloop.registry.v1.RegistryService",
    )
    await server.start()
    async with channel(f"127.0.0.1:{server.port}") as ch:
        yield Harness(
            registry_service_pb2_grpc.RegistryServiceStub(ch),
            registry,
            repo,
            store,
            relay,
            sink,
            tmp_path,
            database.backend,
            server.port,
        )
    await server.stop()
    await vetter.close()
    await repo.close()


def _process_vetting(request) -> bool:
    return request.node.get_closest_marker("process_vetting") is not None


@pytest.fixture
async def harness(request, database, tmp_path) -> AsyncIterator[Harness]:
    """The registry on a loopback gRPC server. Vetting runs in-process unless the
    test is marked ``process_vetting`` (real child processes with limits)."""
    async for h in _harness(database, tmp_path, _process_vetting(request)):
        yield h


@pytest.fixture
async def auth_harness(request, database, tmp_path) -> AsyncIterator[Harness]:
    async for h in _harness(
        database, tmp_path, _process_vetting(request), auth_token=SecretStr("s3cret")
    ):
        yield h


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "process_vetting: vet artifacts in real child processes with limits"
    )


@dataclass(frozen=True)
class Models:
    """The model builders and request helpers, for test modules (which cannot
    import this conftest under ``--import-mode=importlib``)."""

    linear: Callable[..., bytes] = linear_model
    classifier: Callable[..., bytes] = classifier_model
    requests_for: Callable[..., list] = requests_for
    bad: dict[str, tuple[bytes, int, str]] = field(default_factory=lambda: BAD_ARTIFACTS)
    max_artifact: int = MAX_ARTIFACT


@pytest.fixture
def models() -> Models:
    return Models()
