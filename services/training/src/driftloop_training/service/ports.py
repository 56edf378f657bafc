"""What the use cases need from the outside, as small protocols; adapters
and entrypoints implement them (and tests use fakes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from driftloop_training.domain.dataset import Frame, LabelledRow
from driftloop_training.domain.profile import Profile
from driftloop_training.domain.runs import Run, Snapshot


@dataclass(frozen=True)
class TrainJob:
    task: str
    feature_names: list[str]
    X: np.ndarray
    y: np.ndarray
    seed: int
    builtin: str | None
    callable: str | None
    params: dict[str, Any]
    timeout_s: float
    memory_mb: int
    threads: int = 0


@dataclass(frozen=True)
class TrainResult:
    artifact: bytes
    library_versions: dict[str, str]


@dataclass(frozen=True)
class VersionInfo:
    """What training needs to know about a registered version."""

    model: str
    version: int
    feature_view: str = ""
    feature_view_version: int = 0


@dataclass(frozen=True)
class Registration:
    model: str
    artifact: bytes
    task: str
    run_id: str
    snapshot_id: str
    parent_version: int
    feature_view: str
    feature_view_version: int
    feature_width: int
    profile: Profile
    caused_by_event_id: str
    correlation_id: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    description: str = ""


class DatasetStore(Protocol):
    """The offline dataset: feature vectors and labels joined by record id."""

    def put_vector(
        self,
        record_id: str,
        view: str,
        view_version: int,
        entity_id: str,
        event_time: datetime,
        names: list[str],
        values: list[float],
        now: datetime,
    ) -> None: ...

    def put_label(
        self, record_id: str, label: float | str, label_time: datetime, now: datetime
    ) -> None: ...

    def prune(self, now: datetime, max_age_s: float, max_rows: int) -> int: ...

    def labelled_rows(self, view: str, view_version: int) -> list[LabelledRow]: ...

    def count_labelled(
        self, view: str, view_version: int, since: datetime | None = None
    ) -> int: ...

    def feature_names(self, view: str, view_version: int) -> list[str]: ...


class RunStore(Protocol):
    """Runs, the snapshots they trained on and the drift events already acted on."""

    def save_snapshot(self, snapshot: Snapshot, frame: Frame) -> None: ...

    def load_snapshot(self, snapshot_id: str) -> tuple[Snapshot, Frame] | None: ...

    def save_run(self, run: Run) -> None: ...

    def get_run(self, run_id: str) -> Run | None: ...

    def list_runs(self, model: str = "", limit: int = 100) -> list[Run]: ...

    def recent_runs(self, model: str, since: datetime) -> list[Run]: ...

    def active_runs(self) -> list[Run]: ...

    def mark_drift_seen(self, model: str, drift_id: str, now: datetime) -> bool: ...

    def drift_seen(self, model: str, drift_id: str) -> bool: ...


class Store(DatasetStore, RunStore, Protocol):
    """The central store: runs snapshot the dataset they train on."""


class Registry(Protocol):
    async def aliased(self, model: str, alias: str) -> VersionInfo | None: ...

    async def versions(self, model: str) -> list[VersionInfo]: ...

    async def download(self, model: str, version: int) -> bytes: ...

    async def register(self, registration: Registration) -> int: ...

    async def set_alias(
        self,
        model: str,
        alias: str,
        version: int,
        expected: int,
        reason: str,
        caused_by: str,
        correlation_id: str = "",
    ) -> None: ...


class RunEvents(Protocol):
    async def requested(self, run: Run) -> None: ...

    async def started(self, run: Run) -> None: ...

    async def completed(self, run: Run, event_id: str) -> None: ...

    async def failed(self, run: Run) -> None: ...


class Trainer(Protocol):
    async def train(self, job: TrainJob) -> TrainResult: ...


class Scorer(Protocol):
    def predict(self, artifact: bytes, X: np.ndarray, task: str) -> tuple[np.ndarray, np.ndarray]:
        """(label or value, probabilities; empty for regression)."""
        ...
