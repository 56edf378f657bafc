"""Point-in-time aggregates against a brute-force reference on random streams,
including out-of-order records within the allowed lateness and late ones."""

from __future__ import annotations

import math
import statistics
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftloop_feature.domain.compute import NO_PREVIOUS, ViewState
from driftloop_feature.domain.model import Record, Rejection, RejectKind, Vector

from ..helpers import record, views

LATENESS = 5.0


def reference(stream: list[Record]) -> list[tuple[str, list[float] | str]]:
    """Every record's expected outcome, recomputed from scratch: the vector,
    or 'late'. Uses only plain Python over the accepted records."""
    accepted: list[tuple[int, Record]] = []  # (arrival index, record)
    xs: list[float] = []
    out: list[tuple[str, list[float] | str]] = []
    for i, r in enumerate(stream):
        t = r.event_time
        mine = [(j, a) for j, a in accepted if a.entity_id == r.entity_id]
        newest = max((a.event_time for _, a in mine), default=-math.inf)
        if t < newest - LATENESS:
            out.append((r.record_id, "late"))
            continue
        accepted.append((i, r))
        # The entity's events with time <= t, ties by arrival, this one last.
        past = sorted(
            [(a.event_time, j, a) for j, a in mine if a.event_time <= t] + [(t, i, r)],
            key=lambda e: (e[0], e[1]),
        )
        x = [a.fields["x"] for _, _, a in past]
        times = [e[0] for e in past]
        xs.append(r.fields["x"])
        mean, sd = statistics.fmean(xs), statistics.pstdev(xs)
        in10 = [a.fields["x"] for tt, _, a in past if tt > t - 10]
        c = r.fields["c"]
        bucket = zlib.crc32(c.encode()) % 4
        out.append(
            (
                r.record_id,
                [
                    r.fields["x"],
                    (r.fields["x"] - mean) / sd if sd > 0 else 0.0,
                    *(1.0 if c == k else 0.0 for k in "abc"),
                    *(1.0 if b == bucket else 0.0 for b in range(4)),
                    statistics.fmean(x[-3:]),
                    sum(x[-3:]),
                    statistics.pstdev(x[-5:]),
                    float(len(in10)),
                    min(in10),
                    max(in10),
                    t - times[-2] if len(times) > 1 else NO_PREVIOUS,
                    r.fields["x"] / r.fields["y"],
                ],
            )
        )
    return out


events = st.lists(
    st.tuples(
        st.sampled_from(["e1", "e2", "e3"]),
        st.floats(-8.0, 6.0),  # event-time step: negative = out of order
        st.floats(-100, 100, allow_nan=False).map(lambda v: round(v, 3)),
        st.sampled_from("abc"),
    ),
    min_size=1,
    max_size=60,
)


def make_stream(items: list[tuple[str, float, float, str]]) -> list[Record]:
    clock = 1_700_000_000.0
    out = []
    for i, (entity, step, x, c) in enumerate(items):
        clock += step
        out.append(record(f"r{i}", entity, round(clock, 3), x=x, y=1.5, c=c))
    return out


@settings(max_examples=150, deadline=None)
@given(events)
def test_vectors_match_a_brute_force_reference(items: list[tuple[str, float, float, str]]) -> None:
    stream = make_stream(items)
    state = ViewState(views(lateness=LATENESS)[0])
    got = [state.apply(r) for r in stream]
    expected = reference(stream)
    assert len(got) == len(expected) == len(stream)
    for outcome, (rid, want) in zip(got, expected, strict=True):
        if want == "late":
            assert isinstance(outcome, Rejection) and outcome.kind is RejectKind.LATE
            assert outcome.record.record_id == rid
        else:
            assert isinstance(outcome, Vector), outcome
            assert outcome.record_id == rid
            assert list(outcome.values) == pytest.approx(want, rel=1e-9, abs=1e-9)
    assert state.late == sum(1 for _, w in expected if w == "late")


def test_out_of_order_record_within_lateness_is_placed_by_event_time() -> None:
    state = ViewState(views()[0])
    state.apply(record("a", "e", 100.0, x=1.0))
    state.apply(record("b", "e", 104.0, x=4.0))
    late_ok = state.apply(record("c", "e", 102.0, x=2.0))  # 2s behind: within 5s
    assert isinstance(late_ok, Vector)
    names = late_ok.names
    # Its window holds only the events at or before 102: a (100) and itself.
    assert late_ok.values[names.index("x_sum_3")] == 3.0
    assert late_ok.values[names.index("gap")] == 2.0
    # A later record sees all three, in event-time order.
    after = state.apply(record("d", "e", 105.0, x=8.0))
    assert after.values[names.index("x_sum_3")] == 2.0 + 4.0 + 8.0


def test_a_record_beyond_lateness_is_rejected_and_changes_nothing() -> None:
    state = ViewState(views()[0])
    state.apply(record("a", "e", 100.0, x=1.0))
    rejected = state.apply(record("b", "e", 94.0, x=50.0))
    assert isinstance(rejected, Rejection) and rejected.kind is RejectKind.LATE
    assert "allowed_lateness_s=5.0" in rejected.message
    nxt = state.apply(record("c", "e", 101.0, x=3.0))
    assert nxt.values[nxt.names.index("x_sum_3")] == 4.0
    assert state.late == 1


@pytest.mark.parametrize(
    ("kwargs", "kind", "field"),
    [
        ({"y": None}, RejectKind.MISSING_FIELD, "y"),
        ({"x": math.nan}, RejectKind.NOT_FINITE, "x"),
        ({"y": 0.0}, RejectKind.NOT_FINITE, "y"),
    ],
)
def test_a_record_the_view_cannot_compute_is_rejected_without_side_effects(
    kwargs: dict, kind: RejectKind, field: str
) -> None:
    clean, dirty = ViewState(views()[0]), ViewState(views()[0])
    for s in (clean, dirty):
        s.apply(record("a", "e", 100.0, x=1.0))
    bad = dirty.apply(record("bad", "e", 100.5, **{"x": 7.0, **kwargs}))
    assert isinstance(bad, Rejection) and bad.kind is kind and bad.field == field
    # The stream goes on exactly as if the bad record had not been there.
    want = clean.apply(record("b", "e", 101.0, x=2.0))
    got = dirty.apply(record("b", "e", 101.0, x=2.0))
    assert got.values == want.values


def test_history_is_pruned_but_windows_stay_exact() -> None:
    state = ViewState(views()[0])
    for i in range(1000):
        state.apply(record(f"r{i}", "e", 1000.0 + i, x=float(i)))
    # 5 s lateness + 10 s window + 5 events is all a future record can need.
    assert len(state.entities.histories["e"].events) <= 25
    v = state.apply(record("last", "e", 1999.5, x=0.0))
    assert v.values[v.names.index("x_count_10s")] == 11.0
