"""Drift detection on synthetic river streams, through the monitor use case
(join, quality, detectors, windowed tests, debouncing) with an in-memory store."""

from __future__ import annotations

import dataclasses

import pytest

from driftloop.platform.spec import DriftPolicy, ModelSpec, Spec
from driftloop_monitoring import synthetic
from driftloop_monitoring.service.drift import BELOW_GATE
from driftloop_monitoring.service.monitor import Monitor
from driftloop_monitoring.service.policies import Policies
from driftloop_monitoring.service.ports import MemoryStore

STEP_S = 0.01  # 100 events per second of data time


def run(
    n: int, policy: DriftPolicy | None = None, reference=None, late_reference=False, **stream
) -> tuple[Monitor, list]:
    spec = Spec(models=(ModelSpec(name="m", feature_view="sea", drift=policy or DriftPolicy()),))
    clock = [1000.0]
    monitor = Monitor(MemoryStore(), Policies(spec), clock=lambda: clock[0])
    if not late_reference:
        monitor.on_version(reference or synthetic.reference())
    monitor.on_alias("m", "champion", 1, 0)
    facts = []
    for row in synthetic.rows(n, seed=5, **stream):
        if late_reference and row.i == 100:
            monitor.on_version(reference or synthetic.reference())
        clock[0] += STEP_S
        facts += monitor.on_prediction(synthetic.prediction(row, at=clock[0]))
        facts += monitor.on_label(synthetic.label(row, at=clock[0]))
    return monitor, facts


def test_a_stationary_stream_of_100000_events_raises_no_drift():
    monitor, facts = run(100_000)
    assert facts == []
    health = monitor.health("m")
    # It did look: every window was tested and the quality is what the noise makes it.
    assert {r.name for r in health.features} == {"x0", "x1", "x2"}
    assert health.versions[0].labelled == 100_000
    assert 0.87 < health.versions[0].metrics["accuracy"] < 0.93


@pytest.mark.parametrize(
    ("detector", "params"),
    # Page-Hinkley's defaults are not scale-free: on 0/1 streams it needs a larger
    # delta and no forgetting, as a spec would set them.
    [("adwin", {}), ("page_hinkley", {"delta": 0.02, "threshold": 100, "alpha": 1.0})],
)
def test_an_abrupt_concept_change_is_detected_with_its_delay(detector, params, record_property):
    change_at = 20_000
    policy = DriftPolicy(detector=detector, detector_params=params)
    _, facts = run(40_000, policy, concept_change_at=change_at)
    # (left without a retrain, the champion is also announced below its gate:
    # test_below_gate.py)
    concept = [f for f in facts if f.kind == "concept" and f.detector != BELOW_GATE]
    assert len(concept) == 1, facts
    d = concept[0]
    detected_at = round((d.window_end - 1000.0) / STEP_S)
    delay = detected_at - change_at
    record_property(f"{detector}_delay_samples", delay)
    assert 0 < delay < 3000
    assert d.detector == detector
    # The estimated start is close to the real one (position is 1-based).
    assert abs(d.change_started_position - (change_at + 1)) < 500
    assert d.statistic > d.threshold  # error after > error before
    # The evidence window runs from the estimated start to the detection.
    assert abs(d.window_samples - (detected_at + 1 - d.change_started_position + 1)) <= 1


@pytest.mark.parametrize("late_reference", [False, True])
def test_a_covariate_shift_on_one_feature_is_data_drift_naming_that_feature(late_reference):
    # (the version's reference profile may arrive after its champion alias)
    _, facts = run(20_000, late_reference=late_reference, shift_feature="x2", shift_at=10_000)
    assert [f.kind for f in facts] == ["data"]
    d = facts[0]
    assert [r.name for r in d.features if r.drifted] == ["x2"]
    assert d.detector == "psi" and d.statistic >= d.threshold
    assert d.dataset_drift_share == pytest.approx(1 / 3)
    # The window where it was seen begins at or after the shift.
    assert d.change_started_position >= 10_000


def test_a_burst_of_drift_signals_within_the_cooldown_yields_one_event():
    # Concept change, then a covariate shift, then the shift grows: several
    # signals within two minutes of data time (the default cooldown is 120 s).
    # The cooldown is per kind, so that a data-drift warning (which does not
    # retrain by default) cannot hide a concept drift: one event of each kind.
    policy = DriftPolicy(cooldown_s=120.0)
    monitor, facts = run(
        16_000, policy, concept_change_at=4_000, shift_feature="x2", shift_at=5_000
    )
    assert [f.kind for f in facts] == ["concept", "data"], [(f.kind, f.window_end) for f in facts]
    # A further signal of a kind already reported within the cooldown is folded in.
    again = dataclasses.replace(facts[0], window_end=facts[0].window_end + 10)
    assert monitor._admit(again) == []
    assert monitor.debounce.suppressed >= 1
    first = facts[0]
    # After the cooldown, a new change is a new event with its own id.
    _, later = run(40_000, policy, concept_change_at=4_000, shift_feature="x2", shift_at=30_000)
    later = [f for f in later if f.detector != BELOW_GATE]
    assert len(later) == 2
    assert later[0].drift_id == first.drift_id  # the same change has the same id
    assert later[1].drift_id != first.drift_id


def test_a_drift_id_is_stable_when_the_same_stream_is_replayed():
    _, a = run(30_000, concept_change_at=20_000)
    _, b = run(30_000, concept_change_at=20_000)
    assert [f.drift_id for f in a] == [f.drift_id for f in b] and a


def test_predictions_moving_away_from_the_reference_are_prediction_drift():
    # Training writes classes as it printed them ("0.0"); no feature histograms.
    ref = synthetic.reference()
    pred = dataclasses.replace(ref.prediction, categories=("0.0", "1.0"))
    ref = dataclasses.replace(ref, features=(), prediction=pred)
    _, quiet = run(20_000, reference=ref)
    assert quiet == []
    # The champion sees shifted x0, so its error moves too: no cooldown here, to
    # see every kind that fires.
    policy = DriftPolicy(cooldown_s=0)
    _, facts = run(20_000, policy, reference=ref, shift_feature="x0", shift_at=10_000, shift_by=4.0)
    prediction = [f for f in facts if f.kind == "prediction"]
    assert {f.detector for f in prediction} == {"adwin", "psi"}
    assert all(f.change_started_position > 9_500 for f in prediction)
