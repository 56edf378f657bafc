"""Facts the monitoring service decides to announce, before they become
protobuf events at the edge."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from driftloop_monitoring.domain.canary import Evidence
from driftloop_monitoring.domain.windowed import FeatureResult


@dataclass(frozen=True)
class DriftFound:
    drift_id: str
    model: str
    version: int
    kind: str  # concept, data, prediction
    detector: str
    statistic: float  # streaming: the mean after the change; windowed: the PSI
    threshold: float  # windowed: the PSI threshold passed; 0 for streaming drift
    change_started_at: float
    change_started_position: int
    window_start: float
    window_end: float
    window_samples: int
    features: tuple[FeatureResult, ...] = ()
    dataset_drift_share: float = 0.0
    baseline: float = 0.0  # streaming: the mean before the change


class RolloutKind(StrEnum):
    """What happened to a rollout; each kind is one event type on the wire."""

    STARTED = "started"
    STEPPED = "stepped"
    DECIDED = "decided"
    COMPLETED = "completed"


@dataclass(frozen=True)
class RolloutChanged:
    """A rollout started, stepped, was decided or completed."""

    kind: RolloutKind
    rollout_id: str
    model: str
    champion: int
    candidate: int
    mode: str = "canary"
    share: float = 0.0
    steps: tuple[float, ...] = ()
    verdict: str = ""  # promote, rollback
    reason: str = ""
    evidence: Evidence | None = None
    caused_by: str = ""
    correlation_id: str = ""
    event_id: str = ""
    # completed: the champion once the registry applied the verdict (None: ``champion``)
    champion_now: int | None = None
