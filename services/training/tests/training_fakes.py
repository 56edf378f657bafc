"""Test doubles: an in-process fake of the registry's gRPC API, collecting
run events, and helpers that build specs and labelled data."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import grpc
import numpy as np
from aiokafka import AIOKafkaProducer

from driftloop.common.v1.common_pb2 import Value
from driftloop.feature.v1.events_pb2 import FeatureVectorComputed
from driftloop.ingestion.v1.events_pb2 import LabelReceived
from driftloop.platform import topics
from driftloop.platform.bus import aiokafka_options
from driftloop.platform.envelope import headers_for, message_class, new_meta
from driftloop.platform.grpc_client import channel
from driftloop.platform.grpc_server import GrpcServer
from driftloop.platform.settings import GrpcSettings
from driftloop.platform.spec import Spec, parse_spec
from driftloop.platform.testing import free_port
from driftloop.registry.v1 import model_pb2, registry_service_pb2, registry_service_pb2_grpc
from driftloop.training.v1 import training_service_pb2_grpc
from driftloop_training.adapters.onnx_scorer import OnnxScorer
from driftloop_training.adapters.registry_client import GrpcRegistry
from driftloop_training.adapters.sqlite_store import SqliteStore
from driftloop_training.adapters.worker import ProcessTrainer
from driftloop_training.entrypoints.servicer import TrainingServicer
from driftloop_training.service.dataset import Dataset
from driftloop_training.service.runs import Runs
from driftloop_training.service.triggers import Triggers
from driftloop_training.settings import TrainingSection


class FakeRegistry(registry_service_pb2_grpc.RegistryServiceServicer):
    """Versions and compare-and-set aliases in memory, like the real registry."""

    def __init__(self) -> None:
        self.versions: dict[tuple[str, int], model_pb2.ModelVersion] = {}
        self.artifacts: dict[tuple[str, int], bytes] = {}
        self.aliases: dict[tuple[str, str], int] = {}
        self.metadata: dict[tuple[str, int], registry_service_pb2.RegisterModelVersionMetadata] = {}
        self.alias_requests: list[registry_service_pb2.SetAliasRequest] = []

    def add_champion(self, model: str, artifact: bytes, view: str = "v", view_version: int = 1):
        """A champion registered by someone else (version 1)."""
        self.versions[(model, 1)] = model_pb2.ModelVersion(
            model=model, version=1, feature_view=view, feature_view_version=view_version
        )
        self.artifacts[(model, 1)] = artifact
        self.aliases[(model, "champion")] = 1

    async def RegisterModelVersion(self, request_iterator, context):
        meta, chunks = None, []
        async for part in request_iterator:
            if part.HasField("metadata"):
                meta = part.metadata
            else:
                chunks.append(part.chunk)
        assert meta is not None
        version = 1 + max((v for (m, v) in self.versions if m == meta.model), default=0)
        artifact = b"".join(chunks)
        mv = model_pb2.ModelVersion(
            model=meta.model,
            version=version,
            artifact_sha256=hashlib.sha256(artifact).hexdigest(),
            artifact_size=len(artifact),
            metrics=meta.metrics,
            run_id=meta.run_id,
            dataset_snapshot_id=meta.dataset_snapshot_id,
            parent_version=meta.parent_version,
            feature_view=meta.feature_view,
            feature_view_version=meta.feature_view_version,
            reference_profile=meta.reference_profile,
            task=meta.task,
        )
        self.versions[(meta.model, version)] = mv
        self.artifacts[(meta.model, version)] = artifact
        self.metadata[(meta.model, version)] = meta
        return mv

    async def GetModelVersion(self, request, context):
        version = request.version
        if request.WhichOneof("selector") == "alias":
            version = self.aliases.get((request.model, request.alias), 0)
        if (request.model, version) not in self.versions:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such version")
        return self.versions[(request.model, version)]

    async def ListModelVersions(self, request, context):
        return registry_service_pb2.ListModelVersionsResponse(
            versions=[v for (m, _), v in sorted(self.versions.items()) if m == request.model]
        )

    async def SetAlias(self, request, context):
        self.alias_requests.append(request)
        current = self.aliases.get((request.model, request.alias), 0)
        if request.HasField("expected_version") and request.expected_version != current:
            await context.abort(grpc.StatusCode.ABORTED, f"alias is at {current}")
        self.aliases[(request.model, request.alias)] = request.version
        return registry_service_pb2.AliasHistoryEntry(
            model=request.model, alias=request.alias, version=request.version
        )

    async def DownloadArtifact(self, request, context):
        data = self.artifacts.get((request.model, request.version))
        if data is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such version")
        yield registry_service_pb2.ArtifactChunk(data=data, size=len(data))


class CollectingEvents:
    """Records run transitions instead of publishing them."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str, str]] = []

    async def requested(self, run) -> None:
        self.log.append(("requested", run.run_id, run.drift_id))

    async def started(self, run) -> None:
        self.log.append(("started", run.run_id, run.drift_id))

    async def completed(self, run, event_id) -> None:
        self.log.append(("completed", run.run_id, run.drift_id))

    async def failed(self, run) -> None:
        self.log.append(("failed", run.run_id, run.failure_kind))

    def of(self, kind: str) -> list[tuple[str, str, str]]:
        return [e for e in self.log if e[0] == kind]


SPEC = """
api_version: driftloop/v1
streams:
  - name: s
    entity_field: e
    fields:
      - {{name: e, type: string}}
      - {{name: x, type: float}}
    label: {{type: int}}
feature_views:
  - name: {view}
    stream: s
    features:
{features}
models:
{models}
"""

WIDTH = 4


def make_spec(models: str, view: str = "v") -> Spec:
    """A spec of stream ``s`` and one feature view; tests that share the
    session's broker give the view a unique name, since a new training
    process reads every earlier test's rows of its view."""
    features = "\n".join(
        f"      - {{name: f{i}, kind: passthrough, field: x}}" for i in range(WIDTH)
    )
    return parse_spec(SPEC.format(features=features, models=models, view=view))


def model_yaml(
    name: str,
    trainer: str = "builtin: logistic_regression",
    task: str = "classification",
    view: str = "v",
    **training,
) -> str:
    policy = {"min_rows": 100, "cooldown_s": 60, **training}
    policy_text = ", ".join(f"{k}: {v}" for k, v in policy.items())
    return (
        f"  - name: {name}\n    feature_view: {view}\n    task: {task}\n    trainer: {{{trainer}, seed: 3, timeout_s: 60}}\n"
        f"    training: {{{policy_text}}}\n"
    )


T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def synthetic(n: int, seed: int = 0, flip: bool = False):
    """Rows of a linearly separable-ish binary problem; ``flip`` inverts the concept."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, WIDTH))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.3, size=n) > 0).astype(int)
    if flip:
        y = 1 - y
    times = [T0 + timedelta(seconds=i) for i in range(n)]
    return X, y, times


def fill(
    store,
    n: int,
    seed: int = 0,
    flip: bool = False,
    prefix: str = "r",
    start: int = 0,
    regression: bool = False,
):
    X, y, times = synthetic(n, seed, flip)
    if regression:
        y = X[:, 0] * 3.0 - X[:, 1] + 0.1 * np.random.default_rng(seed).normal(size=n)
    names = [f"f{i}" for i in range(WIDTH)]
    now = datetime.now(UTC)
    for i in range(n):
        rid = f"{prefix}{start + i}"
        t = times[i] + timedelta(seconds=start)
        store.put_vector(rid, "v", 1, f"e{i % 7}", t, names, X[i].tolist(), now)
        store.put_label(rid, float(y[i]), t, now)
    return X, y


class Harness:
    def __init__(self, tmp_path, models: str, registry_address: str = "", **settings) -> None:
        self.tmp_path = tmp_path
        self.spec = make_spec(models)
        self.settings = TrainingSection(**{"poll_s": 0.05, "label_wait_s": 0, **settings})
        self.fake = FakeRegistry()
        self.events = CollectingEvents()
        self.store = SqliteStore(tmp_path / "training")
        self.registry_address = registry_address
        self.registry_server = None

    async def start(self) -> Harness:
        if not self.registry_address:
            self.registry_server = grpc.aio.server()
            registry_service_pb2_grpc.add_RegistryServiceServicer_to_server(
                self.fake, self.registry_server
            )
            port = self.registry_server.add_insecure_port("127.0.0.1:0")
            await self.registry_server.start()
            self.registry_address = f"127.0.0.1:{port}"
        self.registry = GrpcRegistry(self.registry_address)
        self.runs = Runs(
            self.spec,
            self.store,
            self.registry,
            self.events,
            ProcessTrainer(self.tmp_path / "jobs", self.settings.worker_start_method),
            OnnxScorer(),
            self.settings,
        )
        self.dataset = Dataset(self.spec, self.store, self.settings)
        self.triggers = Triggers(self.runs, self.dataset)
        self.server = GrpcServer(GrpcSettings(port=free_port()), 0)
        self.server.add(
            training_service_pb2_grpc.add_TrainingServiceServicer_to_server,
            TrainingServicer(self.runs),
            "driftloop.training.v1.TrainingService",
        )
        await self.server.start()
        self.channel = channel(f"127.0.0.1:{self.server.port}")
        self.client = training_service_pb2_grpc.TrainingServiceStub(self.channel)
        return self

    async def stop(self) -> None:
        await self.runs.stop()
        await self.channel.close()
        await self.server.stop()
        await self.registry.close()
        if self.registry_server is not None:
            await self.registry_server.stop(0)
        self.store.close()


async def publish(kafka, events: list[tuple[object, str]]) -> None:
    """Events to their topics over the real broker, keyed as given."""
    producer = AIOKafkaProducer(**aiokafka_options(kafka), linger_ms=5)
    await producer.start()
    try:
        for event, key in events:
            headers = [(k, v.encode()) for k, v in headers_for(event).items()]
            topic = topics.TOPIC_OF[event.DESCRIPTOR.full_name]
            await producer.send_and_wait(
                topic, event.SerializeToString(), key=key.encode(), headers=headers
            )
    finally:
        await producer.stop()


def decode(record):
    """A consumed record's event and its headers."""
    headers = {k: v.decode() for k, v in record.headers}
    return message_class(headers["ce_type"]).FromString(record.value), headers


def labelled_rows(model: str, view: str, X, y, times, first: int = 0):
    """Labels and feature vectors (view version 1) of rows ``first``…, with
    record ids ``<model>-r<i>`` and five entities."""
    labels, vectors = [], []
    for j in range(len(y)):
        i = first + j
        record_id = f"{model}-r{i}"
        labels.append(
            LabelReceived(
                meta=new_meta("test"),
                stream="s",
                record_id=record_id,
                label=Value(int_value=int(y[j])),
            )
        )
        v = FeatureVectorComputed(
            meta=new_meta("test", caused_by=record_id),
            record_id=record_id,
            stream="s",
            entity_id=f"e{i % 5}",
            view=view,
            view_version=1,
            feature_names=[f"f{k}" for k in range(WIDTH)],
            values=X[j].tolist(),
        )
        v.event_time.FromDatetime(times[j])
        vectors.append(v)
    return labels, vectors
