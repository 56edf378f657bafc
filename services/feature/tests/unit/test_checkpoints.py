"""The SQLite checkpoint store: round trip, and isolation by definition."""

from __future__ import annotations

from pathlib import Path

from driftloop_feature.adapters.checkpoints import SqliteCheckpointStore
from driftloop_feature.domain.partition import PartitionState

from ..helpers import record, views


def test_a_saved_state_loads_back_and_computes_the_same(tmp_path: Path) -> None:
    vs = views()
    store = SqliteCheckpointStore(tmp_path / "c.sqlite", "topic", "g", vs)
    state = PartitionState.empty(2, vs)
    for i in range(10):
        state.apply(record(f"r{i}", "e", 100.0 + i, x=float(i)), offset=i)
    store.save([state])
    store.close()
    loaded = SqliteCheckpointStore(tmp_path / "c.sqlite", "topic", "g", vs).load(2)
    assert loaded is not None and loaded.next_offset == 10
    nxt = record("r10", "e", 110.0, x=3.0)
    assert loaded.apply(nxt, 10)[0].values == state.apply(nxt, 10)[0].values


def test_a_changed_definition_or_group_does_not_load_old_state(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    SqliteCheckpointStore(path, "topic", "g", views()).save([PartitionState.empty(0, views())])
    assert SqliteCheckpointStore(path, "topic", "g", views(lateness=9)).load(0) is None
    assert SqliteCheckpointStore(path, "topic", "other", views()).load(0) is None
    assert SqliteCheckpointStore(path, "topic", "g", views()).load(0) is not None
