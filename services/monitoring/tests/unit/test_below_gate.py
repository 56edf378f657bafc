"""A champion measured worse than its own baseline is never left alone: the
monitor says so (a concept drift event from the `below_gate` check), retries
with backoff, waits while a candidate is judged, and re-arms its change
detectors after a rollback."""

from __future__ import annotations

from driftloop.platform.spec import DriftPolicy, ModelSpec, RolloutPolicy, Spec
from driftloop_monitoring import synthetic
from driftloop_monitoring.service.drift import BELOW_GATE
from driftloop_monitoring.service.monitor import Monitor
from driftloop_monitoring.service.policies import Policies
from driftloop_monitoring.service.ports import MemoryStore

STEP_S = 0.01  # 100 labelled predictions per second of data time
START = 1000.0


def _monitor(clock: list[float], cooldown_s: float, timeout_s: float = 600) -> Monitor:
    model = ModelSpec(
        name="m",
        feature_view="sea",
        drift=DriftPolicy(cooldown_s=cooldown_s, label_wait_s=1),
        rollout=RolloutPolicy(timeout_s=timeout_s),
    )
    monitor = Monitor(MemoryStore(), Policies(Spec(models=(model,))), clock=lambda: clock[0])
    monitor.on_version(synthetic.reference())
    monitor.on_alias("m", "champion", 1, 0)
    return monitor


def _feed(monitor: Monitor, clock: list[float], rows, on_row=lambda i, facts: None) -> list:
    facts: list = []
    for row in rows:
        clock[0] += STEP_S
        facts += monitor.on_prediction(synthetic.prediction(row, at=clock[0]))
        facts += monitor.on_label(synthetic.label(row, at=clock[0]))
        facts += monitor.tick() if row.i % 500 == 0 else []
        on_row(row.i, facts)
    return facts


def _s(f) -> float:
    return f.window_end - START


def test_a_champion_left_below_its_gate_is_announced_again_with_backoff():
    clock = [START]
    monitor = _monitor(clock, cooldown_s=30)
    facts = _feed(monitor, clock, synthetic.rows(30_000, seed=5, concept_change_at=5_000))
    concept = [f for f in facts if f.kind == "concept"]
    assert concept[0].detector == "adwin", concept
    alerts = [f for f in concept if f.detector == BELOW_GATE]
    # Change at 50 s; detected soon after; then alerts at >= 30 s and >= 60 s
    # more (the backoff doubles), while nothing replaced the champion.
    assert len(alerts) >= 2, [(f.detector, _s(f)) for f in concept]
    assert _s(alerts[0]) - _s(concept[0]) >= 30
    assert _s(alerts[1]) - _s(alerts[0]) >= 60
    for a in alerts:
        assert a.version == 1 and a.statistic > a.threshold  # loss now > baseline + margin
        # A retrain it triggers learns from where the detected change began.
        assert a.change_started_position == concept[0].change_started_position
    assert len({a.drift_id for a in alerts}) == len(alerts)


def test_no_alert_while_a_candidate_is_judged_and_detection_rearms_after_its_rollback():
    clock = [START]
    monitor = _monitor(clock, cooldown_s=20, timeout_s=60)
    events: dict[str, float] = {}

    def on_row(i: int, facts: list) -> None:
        if "adwin" not in events and any(f.kind == "concept" for f in facts):
            events["adwin"] = clock[0]
            # Training registered a candidate; it never gets traffic (timeout).
            monitor.on_alias("m", "candidate", 2, 0, event_id="cand-2")
        decided = [f for f in facts if getattr(f, "kind", "") == "decided"]
        if decided and "rollback" not in events:
            events["rollback"] = clock[0]
            assert decided[0].verdict == "rollback"
            done = monitor.on_alias("m", "candidate", 0, 2, event_id="cand-gone")
            assert [(d.kind, d.verdict) for d in done] == [("completed", "rollback")]
            assert monitor.runtime("m").watch.loss.detector.position == 0  # re-armed

    facts = _feed(monitor, clock, synthetic.rows(20_000, seed=5, concept_change_at=5_000), on_row)
    assert set(events) == {"adwin", "rollback"}, events
    alerts = [f for f in facts if getattr(f, "detector", "") == BELOW_GATE]
    assert alerts, "the champion stayed below its gate and nobody said so"
    # Nothing while the rollout ran (60 s), although the cooldown (20 s) had passed.
    assert all(a.window_end >= events["rollback"] for a in alerts), events
