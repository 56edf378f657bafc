"""The monitoring service as a real process on the real broker, driven by
synthetic PredictionMade / LabelReceived / AliasChanged events: canary
verdicts (better promoted, worse rolled back, silent rolled back at the
timeout), the causation chain, a kill -9 in the middle of a rollout, concept
drift as one event, and bad input dead-lettered."""

from __future__ import annotations

import json
import random

import grpc
import pytest
from aiokafka import AIOKafkaProducer

from driftloop.bus.v1.deadletter_pb2 import EventDeadLettered
from driftloop.common.v1.common_pb2 import (
    MODEL_ROLE_CANDIDATE,
    MODEL_ROLE_CHAMPION,
    TASK_KIND_CLASSIFICATION,
    ModelRef,
    Value,
)
from driftloop.ingestion.v1.events_pb2 import LabelReceived
from driftloop.monitoring.v1 import events_pb2 as mon
from driftloop.monitoring.v1 import monitoring_service_pb2 as svc
from driftloop.monitoring.v1 import monitoring_service_pb2_grpc as svc_grpc
from driftloop.platform import topics
from driftloop.platform.bus import aiokafka_options
from driftloop.platform.envelope import headers_for, message_class, new_meta
from driftloop.platform.grpc_client import channel
from driftloop.platform.testing import (
    ServiceProcess,
    end_offsets,
    free_port,
    read_from,
    unique,
    wait_for,
)
from driftloop.registry.v1.events_pb2 import AliasChanged
from driftloop.registry.v1.model_pb2 import ModelVersion
from driftloop.serving.v1.events_pb2 import PredictionMade

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

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

    def __init__(self, kafka, tmp_path, spec: str) -> None:
        self.kafka = kafka
        self.port = free_port()
        (tmp_path / "spec.yaml").write_text(spec)
        self.env = {
            "DRIFTLOOP_KAFKA_BOOTSTRAP": kafka.servers,
            "DRIFTLOOP_GRPC_PORT": str(self.port),
            "DRIFTLOOP_METRICS_ENABLED": "false",
            "DRIFTLOOP_DATA_DIR": str(tmp_path / "data"),
            "DRIFTLOOP_SPEC": str(tmp_path / "spec.yaml"),
            "DRIFTLOOP_CONSUMER_GROUP": unique("monitoring"),
            "DRIFTLOOP_REGISTRY_BOOTSTRAP": "false",
            "DRIFTLOOP_TICK_S": "0.2",
            "DRIFTLOOP_ROLLOUT_MIN_PREDICTIONS": "20",
            "DRIFTLOOP_LOG_FORMAT": "json",
        }
        self.log = tmp_path / "monitoring.log"
        self.proc: ServiceProcess | None = None

    def start(self) -> None:
        self.proc = ServiceProcess("driftloop_monitoring", self.env, self.log).start()
        # Generous: five consumer-group joins on a loaded 2-core machine.
        self.proc.wait_healthy(f"127.0.0.1:{self.port}", timeout_s=150)

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


@pytest.fixture(scope="module")
def platform(kafka, tmp_path_factory):
    # One process for the module: a start costs tens of seconds of consumer
    # group joins on the embedded broker.
    tmp_path = tmp_path_factory.mktemp("monitoring")
    models = {
        "better": {"rollout": {"steps": [0.5, 1.0], "min_labelled_per_side": 60, "timeout_s": 120}},
        "worse": {"rollout": {"steps": [0.5, 1.0], "min_labelled_per_side": 60, "timeout_s": 120}},
        "silent": {"rollout": {"timeout_s": 3}},
        "crash": {"rollout": {"steps": [0.5, 1.0], "min_labelled_per_side": 60, "timeout_s": 120}},
        "drifty": {"drift": {"cooldown_s": 600, "min_samples": 50, "window": 100}},
    }
    names = {k: unique(k) for k in models}
    p = Platform(kafka, tmp_path, spec_json({names[k]: v for k, v in models.items()}))
    p.names = names
    p.start()
    yield p
    assert p.proc is not None
    assert p.proc.terminate() == 0, p.proc.tail()


async def test_canary_verdicts_and_the_causation_chain(platform):
    p, n = platform, platform.names
    start = {t: await end_offsets(p.kafka, t) for t in WATCHED}
    cand = {m: await start_rollout(p, n[m], f"drift-{m}") for m in ("better", "worse", "silent")}
    for m in ("better", "worse", "silent"):
        evs = await p.events(start, topics.ROLLOUTS.name, n[m], 1)
        # (the silent one may already have timed out: its decision can follow)
        [started] = [e for e in evs if isinstance(e, mon.RolloutStarted)]
        assert (started.candidate.version, started.champion.version) == (2, 1)
        assert started.candidate_share == (0.1 if m == "silent" else 0.5)
        assert started.meta.causation_id == cand[m].meta.event_id
        assert started.meta.correlation_id == f"drift-{m}"

    await p.publish(traffic(n["better"], 600, {1: 0.7, 2: 0.95}, share=0.5))
    await p.publish(traffic(n["worse"], 600, {1: 0.95, 2: 0.7}, share=0.5))

    got = {
        m: await p.events(start, topics.ROLLOUTS.name, n[m], 2, timeout_s=60)
        for m in ("better", "worse", "silent")
    }
    verdicts = {m: [e for e in evs if isinstance(e, mon.RolloutDecided)] for m, evs in got.items()}
    assert {m: [d.verdict for d in v] for m, v in verdicts.items()} == {
        "better": [mon.VERDICT_PROMOTE],
        "worse": [mon.VERDICT_ROLLBACK],
        "silent": [mon.VERDICT_ROLLBACK],
    }
    better = verdicts["better"][0]
    assert better.evidence.candidate_value > better.evidence.champion_value
    assert better.evidence.candidate_samples >= 60 and better.evidence.champion_samples >= 60
    assert better.meta.correlation_id == "drift-better"
    assert "within" in verdicts["silent"][0].reason

    # The registry applies the promotion; monitoring then completes the rollout.
    await p.publish([alias(n["better"], "champion", 2, 1, caused_by=better.meta)])
    evs = await p.events(start, topics.ROLLOUTS.name, n["better"], 3, timeout_s=30)
    [done] = [e for e in evs if isinstance(e, mon.RolloutCompleted)]
    assert done.verdict == mon.VERDICT_PROMOTE and done.champion.version == 2
    assert done.meta.correlation_id == "drift-better"
    status = await p.status(n["better"])
    assert (status.phase, status.active) == ("completed", False)


async def test_a_rollout_survives_kill_9(platform):
    p, model = platform, platform.names["crash"]
    start = {t: await end_offsets(p.kafka, t) for t in WATCHED}
    await start_rollout(p, model, "drift-k")
    await p.events(start, topics.ROLLOUTS.name, model, 1)
    half = traffic(model, 600, {1: 0.7, 2: 0.95}, share=0.5, seed=3)
    # Some predictions now, the rest (and every label) after a crash.
    await p.publish(half[:200])
    await wait_for(lambda: _predictions_seen(p, model, 200), timeout_s=30)
    p.proc.kill()
    p.start()
    await p.publish(half[200:])
    evs = await p.events(start, topics.ROLLOUTS.name, model, 2, timeout_s=60)
    assert [type(e).__name__ for e in evs] == ["RolloutStarted", "RolloutDecided"]
    assert evs[1].verdict == mon.VERDICT_PROMOTE
    assert evs[1].evidence.candidate_samples + evs[1].evidence.champion_samples >= 120


async def _labelled(p: Platform, model: str, n: int) -> bool:
    h = await p.health(model)
    return h is not None and sum(v.labelled for v in h.versions) == n


async def _predictions_seen(p: Platform, model: str, n: int) -> bool:
    h = await p.health(model)
    return h is not None and sum(v.predictions for v in h.versions) >= n


async def test_concept_drift_is_one_event_and_bad_input_is_dead_lettered(platform):
    p, model = platform, platform.names["drifty"]
    start = {t: await end_offsets(p.kafka, t) for t in WATCHED}
    await p.publish([alias(model, "champion", 1)])
    await wait_for(lambda: p.health(model), timeout_s=30)
    # Accurate for 1500 records, then a coin flip: one change.
    events = traffic(model, 1500, {1: 0.95, 2: 0.95}, share=0.0, seed=1)
    events += traffic(model, 1500, {1: 0.5, 2: 0.5}, share=0.0, seed=2)
    await p.publish(events)
    [drift] = await p.events(start, topics.DRIFT.name, model, 1, timeout_s=60)
    assert drift.kind == mon.DRIFT_KIND_CONCEPT and drift.detector == "adwin"
    assert drift.meta.event_id == drift.drift_id == drift.meta.correlation_id
    assert drift.model.version == 1 and drift.statistic > drift.baseline
    # Every record is joined (count in == out), and still one drift event.
    await wait_for(lambda: _labelled(p, model, 3000), timeout_s=30)
    h = await p.health(model)
    assert [d.drift_id for d in h.recent_drift] == [drift.drift_id]

    bad = PredictionMade(meta=new_meta("serving"), model=ModelRef(name=model, version=1))
    await p.publish([(bad, model)])
    [dead] = await p.events(start, topics.DEADLETTER.name, topics.PREDICTIONS.name, 1, timeout_s=30)
    assert isinstance(dead, EventDeadLettered) and "record_id" in dead.reason
