"""Events come from the outbox: one per committed change, none for refused or
lost ones, kept until the broker acknowledged them."""

import grpc
import pytest

from driftloop.registry.v1 import events_pb2
from driftloop.registry.v1 import registry_service_pb2 as pb
from driftloop_registry.codec.converters import event_to_proto


async def test_only_committed_changes_produce_events_in_commit_order(harness, models):
    await harness.register("m", metadata={"caused_by_event_id": "train-1"})
    await harness.stub.SetAlias(
        pb.SetAliasRequest(model="m", alias="candidate", version=1, caused_by_event_id="req-1")
    )
    with pytest.raises(grpc.aio.AioRpcError):  # lost compare-and-set
        await harness.stub.SetAlias(
            pb.SetAliasRequest(model="m", alias="candidate", version=1, expected_version=0)
        )
    with pytest.raises(grpc.aio.AioRpcError):  # refused artifact
        await harness.register("m", models.bad["pickle"][0])

    assert await harness.relay.drain() == 2
    events = [event_to_proto(e) for e in harness.sink.events]
    registered, changed = events
    assert isinstance(registered, events_pb2.ModelVersionRegistered)
    assert registered.version.version == 1
    assert registered.meta.causation_id == "train-1" and registered.meta.source == "registry"
    assert isinstance(changed, events_pb2.AliasChanged)
    assert (changed.model, changed.alias, changed.version, changed.previous_version) == (
        "m",
        "candidate",
        1,
        0,
    )
    assert changed.caused_by_event_id == "req-1"
    assert changed.model_version.version == 1
    assert changed.model_version.artifact_sha256 == registered.version.artifact_sha256
    assert registered.meta.event_id != changed.meta.event_id
    assert await harness.relay.drain() == 0


async def test_events_stay_pending_until_the_broker_acknowledges_them(harness, models):
    await harness.register("m")
    harness.sink.fail = True
    with pytest.raises(ConnectionError):
        await harness.relay.drain()
    pending = await harness.repo.pending_events(10)
    assert len(pending) == 1
    harness.sink.fail = False
    assert await harness.relay.drain() == 1
    # The republished event keeps the id it got at commit, so consumers can dedupe.
    assert harness.sink.events[0].event_id == pending[0].event_id


async def test_delete_events_carry_no_model_version(harness, models):
    await harness.register("m")
    await harness.stub.SetAlias(pb.SetAliasRequest(model="m", alias="x", version=1))
    await harness.stub.DeleteAlias(pb.DeleteAliasRequest(model="m", alias="x"))
    await harness.relay.drain()
    deleted = event_to_proto(harness.sink.events[-1])
    assert (deleted.version, deleted.previous_version) == (0, 1)
    assert not deleted.HasField("model_version")
    # Alias events carry the alias history's sequence, growing with each change.
    set_x = event_to_proto(harness.sink.events[-2])
    assert 0 < set_x.sequence < deleted.sequence


async def test_events_keep_the_chains_correlation_id_sent_as_call_metadata(harness, models):
    drift = (("x-correlation-id", "drift-7"),)
    await harness.stub.RegisterModelVersion(
        iter(models.requests_for(models.linear(), model="m", caused_by_event_id="run-done")),
        metadata=drift,
    )
    await harness.stub.SetAlias(
        pb.SetAliasRequest(model="m", alias="candidate", version=1, caused_by_event_id="run-done"),
        metadata=drift,
    )
    await harness.stub.SetAlias(pb.SetAliasRequest(model="m", alias="x", version=1))
    await harness.relay.drain()
    metas = [event_to_proto(e).meta for e in harness.sink.events]
    assert [(m.causation_id, m.correlation_id) for m in metas[:2]] == [
        ("run-done", "drift-7"),
        ("run-done", "drift-7"),
    ]
    # Without a cause the event starts its own chain.
    assert metas[2].causation_id == "" and metas[2].correlation_id == metas[2].event_id
