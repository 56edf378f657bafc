"""The dedupe window, the bad-record rate and label checks."""

from __future__ import annotations

import random

import pytest

from driftloop.platform.spec import LabelSpec
from driftloop_ingestion.domain.bad_rate import BadRateWatch
from driftloop_ingestion.domain.labels import check_label
from driftloop_ingestion.domain.recent import RecentIds
from driftloop_ingestion.domain.records import Reason, Rejected


def test_recent_ids_forget_after_ttl_and_beyond_capacity() -> None:
    ids = RecentIds(max_ids=3, ttl_s=10)
    assert all(ids.claim(k, now=0) for k in "abc")
    assert not ids.claim("a", now=9)
    assert ids.claim("d", now=9)  # "a" is now the oldest beyond capacity
    assert "a" not in ids and len(ids) == 3
    assert ids.claim("a", now=9)
    assert ids.claim("b", now=10.5)  # expired
    ids.release("b")
    assert ids.claim("b", now=11)


@pytest.mark.parametrize("ttl", [0, 5])
def test_recent_ids_agree_with_a_brute_force_window(ttl: float) -> None:
    """Against the definition: a key is a duplicate while it was claimed less
    than ``ttl`` ago and is still among the ``max_ids`` newest claims."""
    rng = random.Random(ttl)
    ids = RecentIds(max_ids=20, ttl_s=ttl)
    live: list[tuple[str, float]] = []  # remembered claims, oldest first
    now = 0.0
    for _ in range(5000):
        now += rng.random()
        key = f"k{rng.randrange(40)}"
        live = [(k, t) for k, t in live if not ttl or t > now - ttl]
        expected = key not in {k for k, _ in live}
        assert ids.claim(key, now) is expected, (key, now)
        if expected:
            live = [c for c in live if c[0] != key] + [(key, now)]
            live = live[-20:]
        if rng.random() < 0.05 and live:
            ids.release(live.pop(rng.randrange(len(live)))[0])


def test_bad_rate_alerts_once_past_threshold_then_cools_down() -> None:
    watch = BadRateWatch(threshold=0.1, window=100, min_records=50, cooldown_s=30)
    assert watch.observe("s", [Reason.MALFORMED] * 40, now=0) is None  # too few records
    assert watch.observe("t", [0] * 100, now=0) is None
    alert = watch.observe("s", [0] * 10, now=1)
    assert alert is not None and alert.window_rejected == 40 and alert.window_records == 50
    assert alert.rejected_by_reason == {"malformed": 40}
    assert watch.observe("s", [Reason.OVERSIZED], now=2) is None  # cooling down
    alert = watch.observe("s", [0] * 50, now=40)  # window now 40 bad of 100 (one fell out)
    assert alert is not None and alert.window_records == 100 and alert.window_rejected == 40
    assert watch.observe("s", [0] * 100, now=100) is None  # healthy again


def test_labels_are_checked_against_the_stream_label_type() -> None:
    assert check_label(LabelSpec(type="int", min=0, max=1), "s", 1) == 1
    assert check_label(LabelSpec(type="float"), "s", 2) == 2.0
    assert check_label(LabelSpec(type="categorical", categories=("no", "yes")), "s", "yes") == "yes"
    assert check_label(LabelSpec(type="bool"), "s", False) is False
    bad = [
        (LabelSpec(type="int", min=0, max=1), 2),
        (LabelSpec(type="int"), 0.5),
        (LabelSpec(type="float"), "1"),
        (LabelSpec(type="bool"), 1),
        (LabelSpec(type="categorical", categories=("a",)), "b"),
        (None, 1),
    ]
    for spec, value in bad:
        with pytest.raises(Rejected) as caught:
            check_label(spec, "s", value)
        assert caught.value.reason == Reason.INVALID_LABEL and caught.value.field == "label"
