"""The reference profile skips the rows where a per-entity aggregate is still
warming up, so a stationary stream does not look drifted once every entity
has its history."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np

from driftloop.platform.spec import FeatureSpec, FeatureViewSpec
from driftloop_training.domain.dataset import LabelledRow, to_frame
from driftloop_training.service.profiling import training_profile, warm_up

VIEW = FeatureViewSpec(
    name="v",
    stream="s",
    features=(
        FeatureSpec(name="loan", kind="passthrough", field="loan"),
        FeatureSpec(name="loan_mean_3", kind="rolling", field="loan", agg="mean", window_events=3),
    ),
)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def stationary(n: int, entities: int, seed: int) -> list[LabelledRow]:
    """Rows of a stationary stream as the feature service computes them."""
    rng = random.Random(seed)
    history: dict[int, list[float]] = {}
    rows = []
    for i in range(n):
        e = rng.randrange(entities)
        loan = rng.uniform(0, 100)
        seen = history.setdefault(e, [])
        seen.append(loan)
        window = seen[-3:]
        rows.append(
            LabelledRow(
                record_id=f"r{i}",
                event_time=T0 + timedelta(seconds=i),
                values=(loan, sum(window) / len(window)),
                label=float(loan > 50),
                entity_seq=len(seen) - 1,
            )
        )
    return rows


def psi(edges: list[float], counts: list[int], values: np.ndarray) -> float:
    inner = np.asarray(edges[1:-1])
    live = np.bincount(np.searchsorted(inner, values, side="right"), minlength=len(counts))
    e = np.maximum(np.asarray(counts) / sum(counts), 1e-4)
    a = np.maximum(live / live.sum(), 1e-4)
    return float(np.sum((a - e) * np.log(a / e)))


def test_warm_up_comes_from_the_view_spec():
    assert warm_up(VIEW) == {"loan_mean_3": (2, 0.0)}


def test_a_rolling_feature_profiled_past_its_warm_up_matches_the_live_stream():
    # The first model trains on the first 600 records of 200 entities: most of
    # them are an entity's first or second event.
    frame = to_frame(stationary(600, 200, 1), ["loan", "loan_mean_3"], 0.2, "classification")
    predictions = np.zeros(frame.rows - frame.holdout_rows)
    profile = training_profile(frame, predictions, VIEW, "classification", bins=10)
    # Later, every entity has its history.
    live = np.asarray([r.values for r in stationary(6000, 200, 2)[3000:]])
    ref = {h.name: h for h in profile.features}
    settled = psi(ref["loan_mean_3"].bin_edges, ref["loan_mean_3"].counts, live[:, 1])
    assert settled < 0.1, settled
    assert psi(ref["loan"].bin_edges, ref["loan"].counts, live[:, 0]) < 0.1
    assert ref["loan_mean_3"].count < ref["loan"].count  # warm-up rows left out

    # Profiled on every row (as before), the same live stream looks drifted.
    unsettled = to_frame(stationary(600, 200, 1), ["loan", "loan_mean_3"], 0.2, "classification")
    unsettled = type(unsettled)(**{**unsettled.__dict__, "entity_seq": None})
    before = {
        h.name: h
        for h in training_profile(unsettled, predictions, VIEW, "classification", 10).features
    }
    unsettled_psi = psi(before["loan_mean_3"].bin_edges, before["loan_mean_3"].counts, live[:, 1])
    assert unsettled_psi > max(0.15, 4 * settled), (unsettled_psi, settled)
