"""The registry as a real process on the real embedded broker: events reach
`driftloop.models`, survive a crash between commit and publish, and rollout
decisions on `driftloop.rollouts` move the aliases."""

from __future__ import annotations

import uuid

import grpc
import pytest

from driftloop.common.v1 import common_pb2
from driftloop.monitoring.v1 import events_pb2 as mon
from driftloop.platform import topics
from driftloop.platform.bus import EventBus, make_broker
from driftloop.platform.envelope import context_from, new_meta
from driftloop.platform.grpc_client import channel
from driftloop.platform.testing import (
    ServiceProcess,
    end_offsets,
    free_port,
    kafka_env,
    read_from,
    unique,
    wait_for,
)
from driftloop.registry.v1 import events_pb2, registry_service_pb2_grpc
from driftloop.registry.v1 import registry_service_pb2 as pb
from driftloop.serving.v1 import events_pb2 as serving_events

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def db_env(request):
    if request.param == "sqlite":
        yield {}
        return
    url = request.getfixturevalue("postgres_url")
    schema = f"reg_proc_{uuid.uuid4().hex[:12]}"
    yield {"DRIFTLOOP_DATABASE_URL": url, "DRIFTLOOP_DATABASE_SCHEMA": schema}
    from driftloop_registry.adapters.sql_connections import PostgresDatabase

    db = PostgresDatabase(url, schema)
    db.drop_schema()
    db.close()


class Registry:
    """Starts registry processes that share one data dir and database."""

    def __init__(self, kafka, tmp_path, db_env) -> None:
        self.port = free_port()
        self.env = {
            **kafka_env(kafka),
            "DRIFTLOOP_GRPC_PORT": str(self.port),
            "DRIFTLOOP_METRICS_ENABLED": "false",
            "DRIFTLOOP_DATA_DIR": str(tmp_path / "data"),
            "DRIFTLOOP_OUTBOX_POLL_S": "0.2",
            "DRIFTLOOP_LOG_FORMAT": "json",
            **db_env,
        }
        self.logs = tmp_path / "registry.log"
        self.address = f"127.0.0.1:{self.port}"

    def start(self, **extra: str) -> ServiceProcess:
        # A fresh consumer group per process unless told: a restart after kill -9
        # would otherwise wait for the dead member's session to time out.
        env = {"DRIFTLOOP_ROLLOUTS_GROUP": unique("registry"), **self.env, **extra}
        proc = ServiceProcess("driftloop_registry", env, self.logs).start()
        proc.wait_healthy(self.address)
        return proc


def _requests(models, model: str, seed: float) -> list:
    return models.requests_for(models.linear(seed=seed), model=model)


def _models_events(records, model: str) -> list:
    out = []
    for r in records:
        if r.key != model.encode():
            continue
        ctx = context_from({k: v.decode() for k, v in r.headers})
        kind = (
            events_pb2.ModelVersionRegistered
            if ctx.type.endswith("ModelVersionRegistered")
            else events_pb2.AliasChanged
        )
        out.append(kind.FromString(r.value))
    return out


async def test_a_crash_between_commit_and_publish_still_publishes_every_committed_version(
    kafka, tmp_path, models, db_env
):
    model = unique("crash")
    start = await end_offsets(kafka, topics.MODELS.name)
    registry = Registry(kafka, tmp_path, db_env)

    # The second commit kills the process before its event is published.
    crashing = registry.start(DRIFTLOOP_FAULT_CRASH_AFTER_COMMITS="2")
    async with channel(registry.address) as ch:
        stub = registry_service_pb2_grpc.RegistryServiceStub(ch)
        v1 = await stub.RegisterModelVersion(iter(_requests(models, model, 0.1)))
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.RegisterModelVersion(iter(_requests(models, model, 0.2)))
        # The connection dropped mid-call.
        assert err.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNKNOWN)
    assert crashing.proc.wait(30) == 99

    restarted = registry.start()
    try:
        async with channel(registry.address) as ch:
            stub = registry_service_pb2_grpc.RegistryServiceStub(ch)
            listed = await stub.ListModelVersions(pb.ListModelVersionsRequest(model=model))
        committed = [v.version for v in listed.versions]
        assert committed == [v1.version, 2]
        records = await read_from(
            kafka,
            topics.MODELS.name,
            start,
            count=2,
            predicate=lambda r: r.key == model.encode(),
        )
        events = _models_events(records, model)
        published = {e.version.version for e in events}
        assert published == set(committed)  # each committed version, none other
        assert all(isinstance(e, events_pb2.ModelVersionRegistered) for e in events)
    finally:
        assert restarted.terminate() == 0


async def test_rollout_decisions_on_kafka_move_the_aliases_and_other_rollout_events_pass(
    kafka, tmp_path, models
):
    model = unique("rollout")
    start = await end_offsets(kafka, topics.MODELS.name)
    dead_start = await end_offsets(kafka, topics.DEADLETTER.name)
    registry = Registry(kafka, tmp_path, {})
    group = unique("registry")
    proc = registry.start(DRIFTLOOP_ROLLOUTS_GROUP=group)
    broker = make_broker(kafka, client_id="registry-test")
    await broker.start()
    try:
        async with channel(registry.address) as ch:
            stub = registry_service_pb2_grpc.RegistryServiceStub(ch)
            for seed in (0.1, 0.2):
                await stub.RegisterModelVersion(iter(_requests(models, model, seed)))
            await stub.SetAlias(pb.SetAliasRequest(model=model, alias="champion", version=1))
            await stub.SetAlias(pb.SetAliasRequest(model=model, alias="candidate", version=2))

            bus = EventBus(broker, "monitoring", kafka)
            ref = common_pb2.ModelRef
            await bus.publish(
                mon.RolloutStarted(meta=new_meta("monitoring"), rollout_id="r", model=model),
                key=model,
            )
            # Serving's pins travel the same topic: skipped too.
            pin = serving_events.TrafficSplitPinned(
                meta=new_meta("serving"), model=model, candidate_share=0.5, pinned=True
            )
            await bus.publish(pin, key=model)
            decision = mon.RolloutDecided(
                meta=new_meta("monitoring"),
                rollout_id="r",
                model=model,
                champion=ref(name=model, version=1),
                candidate=ref(name=model, version=2),
                verdict=mon.VERDICT_PROMOTE,
                reason="better",
            )
            await bus.publish(decision, key=model)
            await bus.publish(decision, key=model)  # a redelivery

            async def promoted() -> bool:
                got = await stub.GetModelVersion(
                    pb.GetModelVersionRequest(model=model, alias="champion")
                )
                return got.version == 2

            await wait_for(promoted, timeout_s=30)
            history = await stub.GetAliasHistory(pb.GetAliasHistoryRequest(model=model))
        by_decision = [
            (e.alias, e.version)
            for e in history.entries
            if e.caused_by_event_id == decision.meta.event_id
        ]
        assert by_decision == [("champion", 2), ("archived", 1), ("candidate", 0)]

        records = await read_from(
            kafka, topics.MODELS.name, start, count=7, predicate=lambda r: r.key == model.encode()
        )
        events = _models_events(records, model)
        assert len(events) == 7  # 2 registered + 2 alias sets + 3 from the decision
        champion = [
            e for e in events if isinstance(e, events_pb2.AliasChanged) and e.alias == "champion"
        ][-1]
        assert champion.caused_by_event_id == decision.meta.event_id
        assert champion.model_version.version == 2
        dead = await read_from(
            kafka,
            topics.DEADLETTER.name,
            dead_start,
            timeout_s=2,
            predicate=lambda r: (
                r.key == topics.ROLLOUTS.name.encode() and group.encode() in r.value
            ),
        )
        assert not any(model.encode() in r.value for r in dead)
    finally:
        await broker.stop()
        assert proc.terminate() == 0
