"""Aliases: compare-and-set (under real concurrency), the append-only history
and `at=T` answers, on SQLite and on PostgreSQL."""

import asyncio
from datetime import UTC, datetime

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from driftloop.registry.v1 import registry_service_pb2 as pb


async def _three_versions(harness, models) -> None:
    for seed in (0.1, 0.2, 0.3):
        await harness.register("m", models.linear(seed=seed))


async def test_compare_and_set_moves_an_alias_only_from_the_expected_version(harness, models):
    await _three_versions(harness, models)
    set_ = harness.stub.SetAlias
    first = await set_(
        pb.SetAliasRequest(model="m", alias="champion", version=1, expected_version=0)
    )
    assert (first.version, first.previous_version) == (1, 0)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await set_(pb.SetAliasRequest(model="m", alias="champion", version=2, expected_version=3))
    assert err.value.code() == grpc.StatusCode.ABORTED
    assert "points at version 1, not version 3" in err.value.details()
    moved = await set_(
        pb.SetAliasRequest(model="m", alias="champion", version=2, expected_version=1, reason="ok")
    )
    assert (moved.version, moved.previous_version, moved.reason) == (2, 1, "ok")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await set_(pb.SetAliasRequest(model="m", alias="champion", version=7))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await set_(pb.SetAliasRequest(model="m", alias="1bad", version=1))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "alias" in err.value.details()

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await harness.stub.DeleteAlias(
            pb.DeleteAliasRequest(model="m", alias="champion", expected_version=1)
        )
    assert err.value.code() == grpc.StatusCode.ABORTED
    deleted = await harness.stub.DeleteAlias(
        pb.DeleteAliasRequest(model="m", alias="champion", expected_version=2)
    )
    assert (deleted.version, deleted.previous_version) == (0, 2)
    got = await harness.stub.ListModels(pb.ListModelsRequest())
    assert dict(got.models[0].aliases) == {}


async def test_of_concurrent_compare_and_sets_exactly_one_wins(harness, models):
    await _three_versions(harness, models)
    await harness.stub.SetAlias(pb.SetAliasRequest(model="m", alias="champion", version=1))
    for round_ in range(3):
        current = (
            await harness.stub.GetModelVersion(
                pb.GetModelVersionRequest(model="m", alias="champion")
            )
        ).version
        target = 2 if current != 2 else 3
        calls = [
            harness.stub.SetAlias(
                pb.SetAliasRequest(
                    model="m",
                    alias="champion",
                    version=target,
                    expected_version=current,
                    reason=f"racer {i}",
                )
            )
            for i in range(8)
        ]
        results = await asyncio.gather(*calls, return_exceptions=True)
        wins = [r for r in results if isinstance(r, pb.AliasHistoryEntry)]
        losses = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
        assert len(wins) == 1, (round_, results)
        assert len(losses) == 7 and all(e.code() == grpc.StatusCode.ABORTED for e in losses), (
            results
        )
    history = await harness.stub.GetAliasHistory(
        pb.GetAliasHistoryRequest(model="m", alias="champion")
    )
    assert len(history.entries) == 4  # the initial set and one win per round


async def test_history_is_append_only_and_answers_what_was_champion_at_a_time(harness, models):
    await _three_versions(harness, models)
    set_ = harness.stub.SetAlias
    await set_(pb.SetAliasRequest(model="m", alias="champion", version=1, reason="first"))
    between = datetime.now(UTC)
    await asyncio.sleep(0.01)
    await set_(
        pb.SetAliasRequest(
            model="m", alias="champion", version=2, reason="better", caused_by_event_id="ev-9"
        )
    )
    await set_(pb.SetAliasRequest(model="m", alias="candidate", version=3))
    await harness.stub.DeleteAlias(pb.DeleteAliasRequest(model="m", alias="candidate"))

    everything = await harness.stub.GetAliasHistory(pb.GetAliasHistoryRequest(model="m"))
    assert [(e.alias, e.version, e.previous_version) for e in everything.entries] == [
        ("champion", 1, 0),
        ("champion", 2, 1),
        ("candidate", 3, 0),
        ("candidate", 0, 3),
    ]
    seqs = [e.sequence for e in everything.entries]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4
    assert everything.entries[1].caused_by_event_id == "ev-9"
    assert everything.entries[1].reason == "better"

    def at(when: datetime) -> Timestamp:
        ts = Timestamp()
        ts.FromDatetime(when)
        return ts

    then = await harness.stub.GetAliasHistory(
        pb.GetAliasHistoryRequest(model="m", alias="champion", at=at(between))
    )
    assert then.at_entry.version == 1 and then.at_entry.reason == "first"
    now = await harness.stub.GetAliasHistory(
        pb.GetAliasHistoryRequest(model="m", alias="champion", at=at(datetime.now(UTC)))
    )
    assert now.at_entry.version == 2 and now.at_entry.caused_by_event_id == "ev-9"
    before = await harness.stub.GetAliasHistory(
        pb.GetAliasHistoryRequest(model="m", alias="champion", at=at(datetime(2000, 1, 1)))
    )
    assert not before.HasField("at_entry")
