"""Training runs and the dataset snapshots they train on, as plain values."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Trigger(enum.IntEnum):
    """What started a run (numbers match ``driftloop.training.v1.Trigger``)."""

    DRIFT = 1
    MANUAL = 2
    SCHEDULE = 3
    LABEL_COUNT = 4
    INITIAL = 5


class RunState(enum.IntEnum):
    """Where a run is (numbers match ``driftloop.training.v1.RunState``)."""

    REQUESTED = 1
    RUNNING = 2
    COMPLETED = 3
    FAILED = 4

    @property
    def active(self) -> bool:
        return self in (RunState.REQUESTED, RunState.RUNNING)


@dataclass(frozen=True)
class Window:
    """Which labelled rows to train on: ``since_drift`` (from ``start``),
    ``last_n`` or ``all``; at least ``min_rows`` of them."""

    policy: str
    min_rows: int
    start: datetime | None = None
    end: datetime | None = None
    last_n: int = 0


@dataclass(frozen=True)
class Snapshot:
    """An immutable selection of the offline dataset."""

    snapshot_id: str
    feature_view: str
    feature_view_version: int
    start: datetime
    end: datetime
    rows: int
    holdout_rows: int
    content_sha256: str


@dataclass
class Run:
    """One training run and everything recorded about it."""

    run_id: str
    model: str
    trigger: Trigger
    state: RunState
    created_at: datetime
    window: Window
    seed: int
    trainer: str
    drift_id: str = ""
    # Event or request that caused the run, and the chain's first event.
    cause_id: str = ""
    correlation_id: str = ""
    requested_event_id: str = ""
    params: dict[str, str] = field(default_factory=dict)
    snapshot: Snapshot | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    champion_metrics: dict[str, float] = field(default_factory=dict)
    champion_version: int = 0
    version: int = 0
    gate_passed: bool = False
    gate_reason: str = ""
    error: str = ""
    failure_kind: str = ""
    library_versions: dict[str, str] = field(default_factory=dict)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # Pinned snapshot to retrain on instead of selecting a new window.
    pinned_snapshot_id: str = ""
    # The run's version is an earlier one, reused without training.
    reused: bool = False


class RunFailed(Exception):
    """A run cannot go on; ``kind`` is one of trainer_error, timeout, memory,
    invalid_output, not_enough_data, registry."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
