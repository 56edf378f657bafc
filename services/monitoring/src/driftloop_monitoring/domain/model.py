"""The monitoring service's own vocabulary: predictions, labels, model
versions and their reference distributions, as plain values."""

from __future__ import annotations

from dataclasses import dataclass, field

CHAMPION = "champion"
CANDIDATE = "candidate"
SHADOW = "shadow"


@dataclass(frozen=True)
class Prediction:
    """One model answer for one record."""

    record_id: str
    model: str
    version: int
    role: str
    prediction: float
    probabilities: tuple[float, ...] = ()
    latency_ms: float = 0.0
    at: float = 0.0  # epoch seconds when it was predicted
    feature_names: tuple[str, ...] = ()
    features: tuple[float, ...] = ()
    event_id: str = ""
    joinable: bool = True  # False: no label can carry its record id

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.record_id, self.model, self.version)


@dataclass(frozen=True)
class Label:
    """Ground truth for a record."""

    record_id: str
    value: float
    at: float = 0.0
    event_id: str = ""


@dataclass(frozen=True)
class Joined:
    """A prediction with its label and how long the label took."""

    prediction: Prediction
    label: Label
    lag_s: float


@dataclass(frozen=True)
class Histogram:
    """A reference distribution: numeric (edges) or categorical (categories)."""

    name: str
    counts: tuple[int, ...]
    edges: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()

    @property
    def numeric(self) -> bool:
        return bool(self.edges)


@dataclass(frozen=True)
class VersionInfo:
    """What monitoring needs to know about a registered model version."""

    model: str
    version: int
    task: str = "classification"  # or "regression"
    feature_view: str = ""
    features: tuple[Histogram, ...] = ()
    prediction: Histogram | None = None


@dataclass
class ModelState:
    """Aliases of one model and the versions monitoring has seen."""

    name: str
    champion: int = 0
    candidate: int = 0
    versions: dict[int, VersionInfo] = field(default_factory=dict)

    def role_of(self, version: int) -> str:
        if version and version == self.champion:
            return CHAMPION
        if version and version == self.candidate:
            return CANDIDATE
        return ""
