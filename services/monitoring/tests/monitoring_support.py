"""The monitoring service as a real process and helpers to drive it through
the real broker with synthetic PredictionMade / LabelReceived / AliasChanged
events (shared by the integration tests)."""

from __future__ import annotations

import json
import random

import grpc
from aiokafka import AIOKafkaProducer

from driftloop.common.v1.common_pb2 import (
    MODEL_ROLE_CANDIDATE,
    MODEL_ROLE_CHAMPION,
    TASK_KIND_CLASSIFICATION,
    ModelRef,
    Value,
)
from driftloop.ingestion.v1.events_pb2 import LabelReceived
from driftloop.monitoring.v1 import monitoring_service_pb2 as svc
from driftloop.monitoring.v1 import monitoring_service_pb2_grpc as svc_grpc
from driftloop.platform import topics
from driftloop.platform.bus import aiokafka_options
from driftloop.platform.envelope import headers_for, message_class, new_meta
from driftloop.platform.grpc_client import channel
from driftloop.platform.grpc_server import READY
from driftloop.platform.testing import (
    ServiceProcess,
    free_port,
    kafka_env,
    read_from,
    unique,
    wait_for,
)
from driftloop.registry.v1.events_pb2 import AliasChanged
from driftloop.registry.v1.model_pb2 import ModelVersion
from driftloop.serving.v1.events_pb2 import PredictionMade

WATCHED = (topics.ROLLOUTS.name, topics.DRIFT.name, topics.DEADLETTER.name)


def spec_json(models: dict[str, dict]) -> str:
    return json.dumps(
        {
            "streams": [
                {
                    "name": "s",
                    "entity_field": "e",
                    "fields": [{"name": "e", "type": "string"}, {"name": "x", "type": "float"}],
                }
            ],
            "feature_views": [
                {
                    "name": "v",
                    "stream": "s",
                    "features": [{"name": "x", "kind": "passthrough", "field": "x"}],
                }
            ],
            "models": [
                {"name": name, "feature_view": "v", **extra} for name, extra in models.items()
            ],
        }
    )


class Platform:
    """The service process plus helpers to talk to it through the broker."""

    def __init__(self, kafka, tmp_path, spec: str, name: str = "monitoring", **env: str) -> None:
        self.kafka = kafka
        self.port = free_port()
        (tmp_path / "spec.yaml").write_text(spec)
        self.env = {
            **kafka_env(kafka),
            "DRIFTLOOP_GRPC_PORT": str(self.port),
            "DRIFTLOOP_METRICS_ENABLED": "false",
            "DRIFTLOOP_DATA_DIR": str(tmp_path / "data"),
            "DRIFTLOOP_SPEC": str(tmp_path / "spec.yaml"),
            "DRIFTLOOP_CONSUMER_GROUP": unique("monitoring"),
            "DRIFTLOOP_REGISTRY_BOOTSTRAP": "false",
            "DRIFTLOOP_TICK_S": "0.2",
            "DRIFTLOOP_ROLLOUT_MIN_PREDICTIONS": "20",
            "DRIFTLOOP_LOG_FORMAT": "json",
            **env,
        }
        self.log = tmp_path / f"{name}.log"
        self.proc: ServiceProcess | None = None

    def start(self, wait: bool = True) -> None:
        self.proc = ServiceProcess("driftloop_monitoring", self.env, self.log).start()
        if wait:
            self.wait_healthy()

    def wait_healthy(self) -> None:
        assert self.proc is not None
        # Ready: the broker answers (see the README's readiness). Generous:
        # five consumer-group joins on a loaded 2-core machine.
        self.proc.wait_healthy(f"127.0.0.1:{self.port}", timeout_s=150, service=READY)

    async def publish(self, events: list) -> None:
        producer = AIOKafkaProducer(**aiokafka_options(self.kafka), linger_ms=5)
        await producer.start()
        try:
            futures = []
            for event, key in events:
                headers = [(k, v.encode()) for k, v in headers_for(event).items()]
                topic = topics.TOPIC_OF[event.DESCRIPTOR.full_name]
                futures.append(
                    await producer.send(
                        topic, event.SerializeToString(), key=key.encode(), headers=headers
                    )
                )
            for f in futures:
                await f
        finally:
            await producer.stop()

    async def health(self, model: str) -> svc.ModelHealth | None:
        async with channel(f"127.0.0.1:{self.port}") as ch:
            try:
                return await svc_grpc.MonitoringServiceStub(ch).GetModelHealth(
                    svc.GetModelHealthRequest(model=model)
                )
            except grpc.aio.AioRpcError as exc:
                assert exc.code() == grpc.StatusCode.NOT_FOUND
                return None

    async def status(self, model: str) -> svc.RolloutStatus:
        async with channel(f"127.0.0.1:{self.port}") as ch:
            return await svc_grpc.MonitoringServiceStub(ch).GetRolloutStatus(
                svc.GetRolloutStatusRequest(model=model)
            )

    async def events(self, start, topic: str, model: str, count: int, **kw) -> list:
        records = await read_from(
            self.kafka,
            topic,
            start[topic],
            count=count,
            idle_s=1.0,
            predicate=lambda r: r.key == model.encode(),
            **kw,
        )
        return [
            message_class(dict(r.headers)["ce_type"].decode()).FromString(r.value) for r in records
        ]


def alias(model: str, name: str, version: int, previous: int = 0, caused_by=None) -> tuple:
    mv = (
        ModelVersion(model=model, version=version, task=TASK_KIND_CLASSIFICATION, feature_view="v")
        if version
        else ModelVersion()
    )
    e = AliasChanged(
        meta=new_meta("registry", caused_by=caused_by),
        model=model,
        alias=name,
        version=version,
        previous_version=previous,
        model_version=mv,
    )
    return e, model


def traffic(model: str, n: int, acc: dict[int, float], share: float, seed: int = 1) -> list:
    """Predictions of v1 (champion) and v2 (candidate), then their labels."""
    rng = random.Random(seed)
    preds, labels = [], []
    for i in range(n):
        version = 2 if rng.random() < share else 1
        y = int(rng.random() < 0.5)
        p = y if rng.random() < acc[version] else 1 - y
        rid = f"{model}-r{i}-{seed}"
        e = PredictionMade(
            meta=new_meta("serving"),
            record_id=rid,
            model=ModelRef(name=model, version=version),
            role=MODEL_ROLE_CANDIDATE if version == 2 else MODEL_ROLE_CHAMPION,
            prediction=float(p),
            probabilities=[1.0 - p, float(p)],
            latency_ms=2.0,
        )
        e.predicted_at.GetCurrentTime()
        preds.append((e, model))
        lab = LabelReceived(
            meta=new_meta("ingestion"), stream="s", record_id=rid, label=Value(int_value=y)
        )
        labels.append((lab, rid))
    return preds + labels


async def start_rollout(p: Platform, model: str, drift_id: str):
    await p.publish([alias(model, "champion", 1)])
    await wait_for(lambda: p.health(model), timeout_s=30)
    cand = alias(model, "candidate", 2, caused_by=drift_id)
    await p.publish([cand])
    return cand[0]


async def labelled(p: Platform, model: str, n: int) -> bool:
    h = await p.health(model)
    return h is not None and sum(v.labelled for v in h.versions) == n


async def predictions_seen(p: Platform, model: str, n: int) -> bool:
    h = await p.health(model)
    return h is not None and sum(v.predictions for v in h.versions) >= n
