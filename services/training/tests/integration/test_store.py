"""The SQLite offline store: the point-in-time join whichever side comes
first, idempotent redelivery, label corrections, retention, snapshots."""

from datetime import UTC, datetime, timedelta

import pytest

from driftloop_training.adapters.sqlite_store import SqliteStore
from driftloop_training.domain.dataset import to_frame
from driftloop_training.domain.runs import Snapshot

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
T0 = NOW - timedelta(hours=1)
NAMES = ["amount", "entity_mean"]


@pytest.fixture
def store(tmp_path):
    s = SqliteStore(tmp_path)
    yield s
    s.close()


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def test_each_row_knows_its_place_in_its_entitys_history(store):
    # Over every stored vector of the entity, labelled or not (r2 has no
    # label): the reference profile skips warm-up rows with it.
    for i, (rid, entity) in enumerate([("r1", "e"), ("r2", "e"), ("r3", "e"), ("r4", "f")]):
        store.put_vector(rid, "v", 1, entity, at(i + 1), NAMES, [1.0, 1.0], NOW)
    for rid in ("r1", "r3", "r4"):
        store.put_label(rid, 1.0, at(9), NOW)
    history = [(r.record_id, r.entity_seq, r.entity_age_s) for r in store.labelled_rows("v", 1)]
    assert history == [("r1", 0, 0.0), ("r3", 2, 2.0), ("r4", 0, 0.0)]


def test_labels_before_and_after_vectors_join_to_the_vector_of_their_record(store):
    # Label first for r1, vector first for r2; the entity's later record r3
    # (whose features include more history) must not leak into r1's row.
    store.put_label("r1", 1.0, at(5), NOW)
    store.put_vector("r1", "v", 1, "e", at(1), NAMES, [10.0, 10.0], NOW)
    store.put_vector("r2", "v", 1, "e", at(2), NAMES, [20.0, 15.0], NOW)
    store.put_vector("r3", "v", 1, "e", at(3), NAMES, [30.0, 20.0], NOW)
    assert [r.record_id for r in store.labelled_rows("v", 1)] == ["r1"]
    store.put_label("r2", 0.0, at(9), NOW)

    rows = store.labelled_rows("v", 1)
    assert [(r.record_id, r.values, r.label) for r in rows] == [
        ("r1", (10.0, 10.0), 1.0),
        ("r2", (20.0, 15.0), 0.0),
    ]
    assert rows[0].event_time == at(1)
    assert store.count_labelled("v", 1) == 2
    assert store.labelled_rows("v", 2) == []  # other view versions are separate


def test_redelivery_is_idempotent_and_a_newer_label_corrects(store):
    for _ in range(3):
        store.put_vector("r1", "v", 1, "e", at(1), NAMES, [1.0, 2.0], NOW)
        store.put_label("r1", 0.0, at(5), NOW)
    store.put_label("r1", 1.0, at(8), NOW)  # correction
    store.put_label("r1", 0.0, at(6), NOW)  # stale redelivery of an older label
    (row,) = store.labelled_rows("v", 1)
    assert row.label == 1.0


def test_string_labels_are_kept_as_strings(store):
    store.put_vector("r1", "v", 1, "e", at(1), NAMES, [1.0, 2.0], NOW)
    store.put_label("r1", "approved", at(2), NOW)
    assert store.labelled_rows("v", 1)[0].label == "approved"


def test_retention_by_age_and_count(store):
    store.put_vector("old", "v", 1, "e", NOW - timedelta(days=9), NAMES, [1.0, 1.0], NOW)
    for i in range(10):
        store.put_vector(f"r{i}", "v", 1, "e", at(i), NAMES, [float(i), 0.0], NOW)
        store.put_label(f"r{i}", 1.0, at(i), NOW)
    removed = store.prune(NOW, max_age_s=7 * 86400, max_rows=6)
    assert removed == 1 + 4
    assert [r.record_id for r in store.labelled_rows("v", 1)] == [f"r{i}" for i in range(4, 10)]


def test_a_snapshot_survives_retention_unchanged(store):
    for i in range(20):
        store.put_vector(f"r{i}", "v", 1, "e", at(i), NAMES, [float(i), 1.0], NOW)
        store.put_label(f"r{i}", float(i % 2), at(i), NOW)
    frame = to_frame(store.labelled_rows("v", 1), NAMES, 0.25, "classification")
    snap = Snapshot("snap-1", "v", 1, at(0), at(19), 20, 5, frame.content_sha256())
    store.save_snapshot(snap, frame)
    store.prune(NOW, max_age_s=7 * 86400, max_rows=100)  # keeps all
    store.prune(NOW, max_age_s=1, max_rows=100)  # deletes all
    assert store.labelled_rows("v", 1) == []
    loaded_snap, loaded = store.load_snapshot("snap-1")
    assert loaded_snap == snap
    assert loaded.content_sha256() == snap.content_sha256 and loaded.holdout_rows == 5
    assert loaded.record_ids == [f"r{i}" for i in range(20)]
