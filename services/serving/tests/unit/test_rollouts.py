"""Rollout events applied in log order: the newest position wins whichever
path (read back at start, or the live consumer) brings it first."""

from __future__ import annotations

from driftloop.monitoring.v1.events_pb2 import RolloutStarted, RolloutStepped
from driftloop.platform.envelope import EventContext
from driftloop.serving.v1 import admin_service_pb2 as admin_pb
from driftloop.serving.v1.events_pb2 import TrafficSplitPinned
from driftloop_serving.domain.models import Catalog
from driftloop_serving.domain.routing import Mode, TrafficSplit
from driftloop_serving.entrypoints.subscribers import Subscribers
from driftloop_serving.service.rollouts import Rollouts


def split(catalog: Catalog, model: str = "m") -> TrafficSplit:
    served = catalog.get(model)
    assert served is not None
    return served.split


def test_an_event_not_newer_than_the_applied_one_changes_nothing():
    catalog = Catalog(TrafficSplit(share=0.1))
    catalog.ensure("m")
    rollouts = Rollouts(catalog)
    rollouts.started("m", "ro", 0.2, Mode.SHADOW, position=4)
    rollouts.stepped("m", "ro", 0.5, Mode.CANARY, position=7)
    # The live consumer delivers the same history again, then an older step.
    rollouts.started("m", "ro", 0.2, Mode.SHADOW, position=4)
    rollouts.stepped("m", "ro", 0.3, position=6)
    rollouts.stepped("m", "ro", 0.5, Mode.CANARY, position=7)
    assert (split(catalog).share, split(catalog).mode) == (0.5, Mode.CANARY)
    rollouts.stepped("m", "ro", 1.0, position=9)
    assert (split(catalog).share, split(catalog).mode) == (1.0, Mode.CANARY)


def test_completed_goes_back_to_the_default_but_not_for_another_rollout():
    catalog = Catalog(TrafficSplit(share=0.1))
    catalog.ensure("m")
    rollouts = Rollouts(catalog)
    rollouts.started("m", "ro-1", 0.5, Mode.CANARY, position=1)
    rollouts.completed("m", "ro-1", position=2)
    assert split(catalog).share == 0.1 and split(catalog).rollout_id == ""
    rollouts.started("m", "ro-2", 0.7, Mode.CANARY, position=3)
    rollouts.completed("m", "ro-1", position=4)  # late, for the rollout before
    assert split(catalog).rollout_id == "ro-2"


def test_a_rollout_of_a_model_not_served_yet_waits_without_counting_as_served():
    catalog = Catalog(TrafficSplit(share=0.1))
    rollouts = Rollouts(catalog)
    rollouts.started("m", "ro", 0.6, Mode.CANARY, position=0)
    assert catalog.get("m") is None and list(catalog) == []
    # The first alias makes the model served, with the rollout in force.
    assert catalog.ensure("m").split.share == 0.6


def test_a_pin_beats_rollouts_until_cleared_in_log_order():
    catalog = Catalog(TrafficSplit(share=0.1))
    catalog.ensure("m")
    rollouts = Rollouts(catalog)
    rollouts.started("m", "ro", 0.2, Mode.CANARY, position=1)
    rollouts.pinned("m", 1.0, Mode.CANARY, position=2)
    rollouts.stepped("m", "ro", 0.5, position=3)  # the pin still wins
    assert (split(catalog).share, split(catalog).pinned, split(catalog).rollout_id) == (
        1.0,
        True,
        "ro",
    )
    rollouts.cleared("m", position=4)
    assert (split(catalog).share, split(catalog).pinned) == (0.5, False)
    # The live consumer brings the pin again: older than the clear, ignored.
    rollouts.pinned("m", 1.0, Mode.CANARY, position=2)
    assert not split(catalog).pinned
    rollouts.pinned("m", 0.0, Mode.SHADOW, position=5)
    assert (split(catalog).share, split(catalog).mode) == (0.0, Mode.SHADOW)


def test_an_older_clear_does_not_undo_a_newer_pin():
    catalog = Catalog(TrafficSplit(share=0.1))
    catalog.ensure("m")
    rollouts = Rollouts(catalog)
    rollouts.pinned("m", 0.7, Mode.CANARY, position=8)
    rollouts.cleared("m", position=6)
    rollouts.stepped("m", "ro", 0.3, position=7)
    assert (split(catalog).share, split(catalog).pinned) == (0.7, True)


def test_a_pin_of_a_model_not_served_yet_is_in_force_once_it_is():
    catalog = Catalog(TrafficSplit(share=0.1))
    rollouts = Rollouts(catalog)
    rollouts.pinned("m", 0.9, Mode.CANARY, position=0)
    assert catalog.get("m") is None
    assert (catalog.ensure("m").split.share, catalog.ensure("m").split.pinned) == (0.9, True)


async def test_recovery_applies_the_latest_pin_in_offset_order():
    catalog = Catalog(TrafficSplit(share=0.1))
    catalog.ensure("m")
    catalog.ensure("n")
    subs = Subscribers(None, Rollouts(catalog), None)  # type: ignore[arg-type]
    canary, shadow = admin_pb.TRAFFIC_MODE_CANARY, admin_pb.TRAFFIC_MODE_SHADOW
    log = [
        RolloutStarted(model="m", rollout_id="ro", candidate_share=0.2, mode=canary),
        TrafficSplitPinned(model="m", candidate_share=0.4, mode=canary, pinned=True),
        TrafficSplitPinned(model="n", candidate_share=0.6, mode=canary, pinned=True),
        TrafficSplitPinned(model="m", pinned=False),
        TrafficSplitPinned(model="m", candidate_share=1.5, pinned=True),  # skipped: bad share
        TrafficSplitPinned(model="m", candidate_share=0.0, mode=shadow, pinned=True),
        RolloutStepped(model="m", rollout_id="ro", candidate_share=0.8),
        TrafficSplitPinned(model="n", pinned=False),
    ]
    events = [
        (e, EventContext(f"id{i}", e.DESCRIPTOR.full_name, "t", "", offset=i))
        for i, e in enumerate(log)
    ]
    await subs.recover_rollouts(events)
    m, n = split(catalog, "m"), split(catalog, "n")
    assert (m.share, m.mode, m.pinned, m.rollout_id) == (0.0, Mode.SHADOW, True, "ro")
    assert (n.share, n.pinned) == (0.1, False)
    # The live consumer then delivers the same log again: nothing changes.
    await subs.recover_rollouts(events)
    assert split(catalog, "m") == m and split(catalog, "n") == n
