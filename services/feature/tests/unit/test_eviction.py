"""Bounded entity state: time to live on event time, a maximum count evicting
the least recently updated entity, and no record lost to either."""

from __future__ import annotations

import pytest

from driftloop.platform.spec import SpecError
from driftloop_feature.domain.compute import NO_PREVIOUS, ViewState
from driftloop_feature.domain.entities import EXPIRED, OVER_CAPACITY
from driftloop_feature.domain.model import Vector

from ..helpers import record, spec, views


def view_state(ttl: float | None = None, max_entities: int = 0) -> ViewState:
    return ViewState(views(ttl=ttl, max_entities=max_entities)[0])


def gap(state: ViewState, rid: str, entity: str, t: float) -> float:
    out = state.apply(record(rid, entity, t))
    assert isinstance(out, Vector)
    return out.values[out.names.index("gap")]


def test_an_entity_idle_longer_than_its_ttl_in_event_time_starts_from_empty() -> None:
    state = view_state(ttl=60)
    assert gap(state, "r1", "a", 1000.0) == NO_PREVIOUS
    gap(state, "r2", "b", 1059.0)
    assert gap(state, "r3", "a", 1050.0) == 50.0  # within the TTL: history kept
    gap(state, "r4", "b", 1111.0)  # the newest event time is now 61 s past a's
    assert "a" not in state.entities.histories
    assert gap(state, "r5", "a", 1112.0) == NO_PREVIOUS
    assert state.entities.take_evictions() == {EXPIRED: 1}


def test_an_expired_entity_is_forgotten_when_it_returns_even_before_the_sweep() -> None:
    # b stays at the front of the update order, so the sweep stops there;
    # a is behind it but its newest event is older.
    state = view_state(ttl=60)
    gap(state, "r1", "b", 1030.0)
    gap(state, "r2", "a", 1000.0)
    gap(state, "r3", "c", 1080.0)
    assert list(state.entities.histories) == ["b", "a", "c"]
    assert gap(state, "r4", "a", 1081.0) == NO_PREVIOUS
    assert state.entities.take_evictions() == {EXPIRED: 1}


def test_without_a_ttl_an_idle_entity_keeps_its_state() -> None:
    state = view_state()
    gap(state, "r1", "a", 0.0)
    gap(state, "r2", "b", 1e9)
    assert gap(state, "r3", "a", 1e9 + 1) == 1e9 + 1
    assert not state.entities.take_evictions()


def test_past_max_entities_the_least_recently_updated_is_evicted_first() -> None:
    state = view_state(max_entities=3)
    for i, entity in enumerate(["a", "b", "c", "a", "d"]):  # a updated after b and c
        gap(state, f"r{i}", entity, 100.0 + i)
    assert list(state.entities.histories) == ["c", "a", "d"]
    assert state.entities.take_evictions() == {OVER_CAPACITY: 1}
    assert gap(state, "r9", "b", 110.0) == NO_PREVIOUS  # b was forgotten
    assert len(state.entities) == 3


def test_eviction_loses_no_record_every_record_gets_its_vector() -> None:
    state = view_state(ttl=30, max_entities=50)
    records = [record(f"r{i}", f"e{i % 500}", 1000.0 + i * 0.5) for i in range(5000)]
    out = [state.apply(r) for r in records]
    vectors = [o for o in out if isinstance(o, Vector)]
    assert [v.record_id for v in vectors] == [r.record_id for r in records]
    evicted = state.entities.take_evictions()
    assert len(state.entities) <= 50
    assert sum(evicted.values()) == 5000 - len(state.entities)  # every return was fresh


def test_the_changes_name_updated_and_evicted_entities_once() -> None:
    state = view_state(max_entities=2)
    for i, entity in enumerate(["a", "b", "c"]):
        gap(state, f"r{i}", entity, 100.0 + i)
    changes = state.entities.take_changes()
    assert changes.keys() == {"a", "b", "c"} and changes["a"] is None
    assert state.entities.take_changes() == {}
    taken = changes["c"]
    assert taken is not None and len(taken.events) == 1
    gap(state, "r3", "c", 103.0)  # copied on write: what was taken stays as it was
    assert len(taken.events) == 1 and len(state.entities.histories["c"].events) == 2


def test_the_spec_refuses_a_ttl_that_is_not_positive() -> None:
    with pytest.raises(SpecError, match=r"entity_ttl_s \(line \d+\): Input should be greater"):
        spec(ttl=-5)
