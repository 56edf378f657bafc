"""Window selection, the time-ordered holdout, label encoding and the
content hash."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from driftloop_training.domain.dataset import (
    LabelledRow,
    NotEnoughData,
    encode_labels,
    select,
    to_frame,
)
from driftloop_training.domain.runs import Window

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def rows(n: int) -> list[LabelledRow]:
    return [
        LabelledRow(f"r{i}", T0 + timedelta(seconds=i), (float(i), float(-i)), float(i % 2))
        for i in range(n)
    ]


def test_since_drift_keeps_rows_from_the_change_on():
    chosen = select(rows(100), Window("since_drift", 10, start=T0 + timedelta(seconds=60)))
    assert [r.record_id for r in chosen] == [f"r{i}" for i in range(60, 100)]


def test_since_drift_waits_for_the_minimum():
    with pytest.raises(NotEnoughData, match="40 labelled rows in the window, need 50"):
        select(rows(100), Window("since_drift", 50, start=T0 + timedelta(seconds=60)))


def test_last_n_and_all():
    assert len(select(rows(100), Window("last_n", 10, last_n=25))) == 25
    assert select(rows(100), Window("last_n", 10, last_n=25))[0].record_id == "r75"
    assert len(select(rows(100), Window("all", 10))) == 100


def test_holdout_is_the_most_recent_slice():
    shuffled = rows(50)[::-1]
    frame = to_frame(shuffled, ["a", "b"], 0.2, "classification")
    assert frame.holdout_rows == 10
    X_train, _ = frame.train
    X_hold, _ = frame.holdout
    assert X_train[:, 0].max() < X_hold[:, 0].min()
    assert frame.X.dtype == np.float32 and frame.y.dtype == np.int64


def test_width_mismatch_is_an_error():
    with pytest.raises(ValueError, match="widths"):
        to_frame(rows(10), ["a", "b", "c"], 0.2, "regression")


def test_string_labels_are_encoded_by_sorted_position():
    assert encode_labels(["no", "yes", "no", "maybe"]).tolist() == [1, 2, 1, 0]
    assert encode_labels([1.0, 0.0, 2.0]).tolist() == [1, 0, 2]


def test_content_hash_is_stable_and_sensitive():
    a = to_frame(rows(30), ["a", "b"], 0.2, "regression")
    b = to_frame(rows(30)[::-1], ["a", "b"], 0.2, "regression")
    assert a.content_sha256() == b.content_sha256()
    changed = rows(30)
    changed[3] = LabelledRow("r3", changed[3].event_time, (3.0, -3.0), 0.5)
    assert to_frame(changed, ["a", "b"], 0.2, "regression").content_sha256() != a.content_sha256()
