"""The trigger decision: duplicates, bursts within the cooldown, one run at a
time, the hourly cap."""

from datetime import UTC, datetime, timedelta

from driftloop_training.domain.debounce import decide
from driftloop_training.domain.runs import Run, RunState, Trigger, Window

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


def run(trigger=Trigger.DRIFT, state=RunState.COMPLETED, ago_s=10.0) -> Run:
    return Run(
        run_id=f"r{ago_s}",
        model="m",
        trigger=trigger,
        state=state,
        created_at=NOW - timedelta(seconds=ago_s),
        window=Window("all", 10),
        seed=0,
        trainer="builtin:ridge",
    )


def d(trigger, runs, seen=False, cooldown=60.0, cap=6):
    return decide(
        trigger,
        recent_runs=runs,
        drift_seen=seen,
        now=NOW,
        cooldown_s=cooldown,
        max_runs_per_hour=cap,
    )


def test_first_drift_is_accepted():
    assert d(Trigger.DRIFT, []).accepted


def test_duplicate_drift_id_is_refused_even_without_runs():
    decision = d(Trigger.DRIFT, [], seen=True)
    assert not decision.accepted and "duplicate" in decision.reason


def test_new_drift_within_cooldown_is_absorbed_and_after_it_accepted():
    assert not d(Trigger.DRIFT, [run(ago_s=30)]).accepted
    assert d(Trigger.DRIFT, [run(ago_s=61)]).accepted


def test_nothing_starts_while_a_run_is_in_progress():
    active = [run(Trigger.SCHEDULE, RunState.RUNNING, ago_s=3000)]
    for trigger in Trigger:
        decision = d(trigger, active)
        assert not decision.accepted and "in progress" in decision.reason


def test_hourly_cap_applies_to_automatic_triggers_not_manual():
    runs = [run(Trigger.SCHEDULE, ago_s=100 + i * 300) for i in range(6)]
    assert not d(Trigger.DRIFT, runs).accepted
    assert not d(Trigger.INITIAL, runs).accepted
    assert d(Trigger.MANUAL, runs).accepted
    old = [run(Trigger.SCHEDULE, ago_s=3601 + i) for i in range(6)]
    assert d(Trigger.DRIFT, old).accepted


def test_cooldown_only_counts_drift_runs():
    assert d(Trigger.DRIFT, [run(Trigger.MANUAL, ago_s=5)]).accepted
