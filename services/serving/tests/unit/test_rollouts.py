"""Rollout events applied in log order: the newest position wins whichever
path (read back at start, or the live consumer) brings it first."""

from __future__ import annotations

from driftloop_serving.domain.models import Catalog
from driftloop_serving.domain.routing import Mode, TrafficSplit
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
