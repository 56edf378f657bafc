"""Whether a trigger may start a run: one run at a time per model, drift
events debounced by id and by a cooldown, and a cap on runs per hour.

The decision is a pure function of the model's recent runs, so it survives
restarts (the runs are persisted) and is tested without any clock but the
one passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from driftloop_training.domain.runs import Run, Trigger


@dataclass(frozen=True)
class Decision:
    accepted: bool
    reason: str


def decide(
    trigger: Trigger,
    *,
    recent_runs: list[Run],
    drift_seen: bool,
    now: datetime,
    cooldown_s: float,
    max_runs_per_hour: int,
) -> Decision:
    """Accept or refuse a trigger for one model.

    ``recent_runs`` are the model's runs of (at least) the last hour, and
    every run still in progress. Manual runs skip the cooldown and the cap
    (an operator asked), but never start while another run is in progress.
    """
    if trigger is Trigger.DRIFT and drift_seen:
        return Decision(False, "duplicate drift id")
    active = [r for r in recent_runs if r.state.active]
    if active:
        return Decision(False, f"run {active[0].run_id} is in progress")
    if trigger is Trigger.MANUAL:
        return Decision(True, "manual")
    if trigger is Trigger.DRIFT:
        cooldown = timedelta(seconds=cooldown_s)
        recent_drift = [
            r for r in recent_runs if r.trigger is Trigger.DRIFT and now - r.created_at < cooldown
        ]
        if recent_drift:
            return Decision(False, f"within cooldown of run {recent_drift[0].run_id}")
    hour = [r for r in recent_runs if now - r.created_at < timedelta(hours=1)]
    if len(hour) >= max_runs_per_hour:
        return Decision(False, f"{len(hour)} runs in the last hour (max {max_runs_per_hour})")
    return Decision(True, trigger.name.lower())
