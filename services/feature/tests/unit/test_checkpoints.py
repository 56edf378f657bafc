"""The SQLite checkpoint store (a real file): incremental saves add up to
exactly the live state, a fresh state replaces what was saved, and state is
isolated by definition."""

from __future__ import annotations

import random
import sqlite3
from contextlib import closing
from pathlib import Path

from driftloop_feature.adapters.checkpoints import SqliteCheckpointStore
from driftloop_feature.domain.partition import PartitionState

from ..helpers import record, views


def described(state: PartitionState) -> object:
    """Everything a state's future vectors depend on, comparable with ==."""
    return (
        state.partition,
        state.next_offset,
        state.log_id,
        {
            name: (
                s.seq,
                s.late,
                s.entities.watermark,
                {n: (v.mean.n, v.mean.get(), v.get()) for n, v in s.scalers.items()},
                [(e, h.events, h.max_time, h.updated) for e, h in s.entities.histories.items()],
            )
            for name, s in state.views.items()
        },
    )


async def test_incremental_checkpoints_restore_exactly_the_live_state(tmp_path: Path) -> None:
    vs = views(ttl=40.0, max_entities=30)
    store = SqliteCheckpointStore(tmp_path / "c.sqlite", "topic", "g", vs)
    state = PartitionState.empty(2, vs, log_id="cluster-a")
    rng = random.Random(7)
    written = []
    for i in range(600):
        entity = f"e{rng.randrange(60)}"
        state.apply(record(f"r{i}", entity, 1000.0 + i * 0.3, x=rng.uniform(0, 9)), offset=i)
        if i % 97 == 0:
            snapshot = state.snapshot()
            written.append(sum(len(v.entities) for v in snapshot.views.values()))
            await store.save([snapshot])
    await store.save([state.snapshot()])
    store.close()
    assert written[0] == 1 and max(written) < 97 + 30  # changed entities only, not all

    reopened = SqliteCheckpointStore(tmp_path / "c.sqlite", "topic", "g", vs)
    loaded = await reopened.load(2)
    assert loaded is not None
    assert described(loaded) == described(state)
    later = [record(f"n{i}", f"e{i % 70}", 1180.0 + i, x=float(i)) for i in range(100)]
    for i, r in enumerate(later):
        assert loaded.apply(r, 600 + i) == state.apply(r, 600 + i)
    reopened.close()


async def test_a_state_built_afresh_replaces_every_saved_entity(tmp_path: Path) -> None:
    vs = views()
    store = SqliteCheckpointStore(tmp_path / "c.sqlite", "topic", "g", vs)
    old = PartitionState.empty(0, vs, log_id="cluster-a")
    for i in range(5):
        old.apply(record(f"r{i}", f"old{i}", 100.0 + i), offset=i)
    await store.save([old.snapshot()])
    fresh = PartitionState.empty(0, vs, log_id="cluster-b")  # e.g. rebuilt from a reset log
    fresh.apply(record("r0", "new", 100.0), offset=0)
    await store.save([fresh.snapshot()])
    loaded = await store.load(0)
    assert loaded is not None and loaded.log_id == "cluster-b"
    assert list(loaded.views["v"].entities.histories) == ["new"]
    store.close()


async def test_after_a_lost_snapshot_the_next_one_saves_everything(tmp_path: Path) -> None:
    vs = views()
    store = SqliteCheckpointStore(tmp_path / "c.sqlite", "topic", "g", vs)
    state = PartitionState.empty(0, vs)
    for i in range(5):
        state.apply(record(f"r{i}", f"e{i}", 100.0 + i), offset=i)
    state.snapshot()  # taken, never written
    state.snapshot_lost()
    state.apply(record("r5", "e0", 106.0), offset=5)
    await store.save([state.snapshot()])
    loaded = await store.load(0)
    assert loaded is not None and described(loaded) == described(state)
    store.close()


async def test_a_changed_definition_or_group_does_not_load_old_state(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    saved = SqliteCheckpointStore(path, "topic", "g", views())
    await saved.save([PartitionState.empty(0, views()).snapshot()])
    saved.close()
    for other in (
        SqliteCheckpointStore(path, "topic", "g", views(lateness=9)),
        SqliteCheckpointStore(path, "topic", "g", views(ttl=60)),
        SqliteCheckpointStore(path, "topic", "other", views()),
    ):
        assert await other.load(0) is None
        other.close()
    same = SqliteCheckpointStore(path, "topic", "g", views())
    assert await same.load(0) is not None
    same.close()


async def test_a_snapshot_saves_the_state_it_was_taken_at_not_a_later_one(tmp_path: Path) -> None:
    vs = views()
    store = SqliteCheckpointStore(tmp_path / "c.sqlite", "topic", "g", vs)
    records = [record(f"r{i}", f"e{i % 3}", 100.0 + i, x=float(i)) for i in range(40)]
    live, reference = PartitionState.empty(0, vs), PartitionState.empty(0, vs)
    for i, r in enumerate(records[:30]):
        live.apply(r, i)
        reference.apply(r, i)
    snapshot = live.snapshot()
    for i, r in enumerate(records[30:], start=30):  # changes the entities the snapshot holds
        live.apply(r, i)
    await store.save([snapshot])  # written later, as by the store's thread
    loaded = await store.load(0)
    assert loaded is not None and described(loaded) == described(reference)
    store.close()


async def test_checkpoints_of_the_whole_partition_format_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with closing(sqlite3.connect(path)) as db:  # as written before incremental checkpoints
        db.execute("CREATE TABLE checkpoint (namespace TEXT, partition INTEGER, state BLOB)")
    store = SqliteCheckpointStore(path, "topic", "g", views())
    assert await store.load(0) is None
    store.close()
    with closing(sqlite3.connect(path)) as db:
        tables = {n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "checkpoint" not in tables and "entity_state" in tables
