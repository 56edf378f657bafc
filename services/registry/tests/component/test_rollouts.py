"""Rollout decisions from monitoring move the aliases, once per decision."""

import pytest

from driftloop.common.v1 import common_pb2
from driftloop.monitoring.v1 import events_pb2 as mon
from driftloop.platform.bus import Reject
from driftloop.platform.envelope import EventContext, new_meta
from driftloop.registry.v1 import registry_service_pb2 as pb
from driftloop_registry.entrypoints.subscribers import on_rollout_decided


def _decision(verdict, champion: int, candidate: int, event_id: str) -> mon.RolloutDecided:
    return mon.RolloutDecided(
        meta=new_meta("monitoring", event_id=event_id, caused_by="drift-1"),
        rollout_id="r1",
        model="m",
        champion=common_pb2.ModelRef(name="m", version=champion),
        candidate=common_pb2.ModelRef(name="m", version=candidate),
        verdict=verdict,
        reason="candidate error 0.10 < champion 0.14",
    )


async def _setup(harness, models) -> None:
    for seed in (0.1, 0.2):
        await harness.register("m", models.linear(seed=seed))
    await harness.stub.SetAlias(pb.SetAliasRequest(model="m", alias="champion", version=1))
    await harness.stub.SetAlias(pb.SetAliasRequest(model="m", alias="candidate", version=2))


async def _aliases(harness) -> dict[str, int]:
    listed = await harness.stub.ListModels(pb.ListModelsRequest())
    return dict(listed.models[0].aliases)


async def test_promote_makes_the_candidate_champion_once_however_often_delivered(harness, models):
    await _setup(harness, models)
    handle = on_rollout_decided(harness.registry)
    event = _decision(mon.VERDICT_PROMOTE, 1, 2, "decision-1")
    ctx = EventContext(id="decision-1", type="", source="", time="")
    await handle(event, ctx)
    await handle(event, ctx)  # redelivered

    assert await _aliases(harness) == {"champion": 2, "archived": 1}
    history = (await harness.stub.GetAliasHistory(pb.GetAliasHistoryRequest(model="m"))).entries
    caused = [(e.alias, e.version) for e in history if e.caused_by_event_id == "decision-1"]
    assert caused == [("champion", 2), ("archived", 1), ("candidate", 0)]
    await harness.relay.drain()
    champion_events = [e for e in harness.sink.events if e.change and e.change.alias == "champion"]
    assert champion_events[-1].causation_id == "decision-1"
    assert champion_events[-1].correlation_id == "drift-1"


async def test_rollback_drops_the_candidate_and_tags_it(harness, models):
    await _setup(harness, models)
    handle = on_rollout_decided(harness.registry)
    await handle(_decision(mon.VERDICT_ROLLBACK, 1, 2, "decision-2"), EventContext("d", "", "", ""))
    assert await _aliases(harness) == {"champion": 1}
    v2 = await harness.stub.GetModelVersion(pb.GetModelVersionRequest(model="m", version=2))
    assert v2.tags["rolled_back"] == "true"


async def test_a_stale_decision_is_rejected_and_changes_nothing(harness, models):
    await _setup(harness, models)
    handle = on_rollout_decided(harness.registry)
    with pytest.raises(Reject, match="champion"):
        # Decided against champion 2, but champion is 1.
        await handle(
            _decision(mon.VERDICT_PROMOTE, 2, 2, "decision-3"), EventContext("", "", "", "")
        )
    assert await _aliases(harness) == {"champion": 1, "candidate": 2}
    with pytest.raises(Reject, match="verdict"):
        await handle(_decision(mon.VERDICT_UNSPECIFIED, 1, 2, "d4"), EventContext("", "", "", ""))
