"""What the registry keeps: model versions, their signatures, aliases and the
append-only history of alias changes. Plain data, no transport or storage."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum

from driftloop.platform.errors import InvalidArgument

CHAMPION = "champion"
CANDIDATE = "candidate"
ARCHIVED = "archived"

_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_ALIAS_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,63}$")
METRIC_OPS = ("<", "<=", ">", ">=", "==")


class TaskKind(IntEnum):
    """What a model predicts (numbers match the wire enum)."""

    UNSPECIFIED = 0
    CLASSIFICATION = 1
    REGRESSION = 2


@dataclass(frozen=True)
class TensorSpec:
    """A tensor's name, OIP v2 datatype (FP32, INT64, ...) and shape (-1: any)."""

    name: str
    datatype: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class Signature:
    inputs: tuple[TensorSpec, ...] = ()
    outputs: tuple[TensorSpec, ...] = ()


@dataclass(frozen=True)
class VersionDraft:
    """What a caller declares when registering a version; the registry adds the
    number, the artifact's checksum and the signature it reads from the model."""

    model: str
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    run_id: str = ""
    dataset_snapshot_id: str = ""
    parent_version: int = 0
    feature_view: str = ""
    feature_view_version: int = 0
    feature_width: int = 0
    # The serialized reference profile: opaque to the registry, kept for monitoring.
    reference_profile: bytes = b""
    task: TaskKind = TaskKind.UNSPECIFIED
    description: str = ""
    expected_sha256: str = ""
    caused_by_event_id: str = ""
    # The first event of the chain (a drift id) that led here, for the event.
    correlation_id: str = ""

    def validate(self) -> None:
        """Raise InvalidArgument naming the first bad field."""
        check_model_name(self.model)
        for name, value in self.metrics.items():
            if not name:
                raise InvalidArgument("metrics: a metric name is empty")
            if not math.isfinite(value):
                raise InvalidArgument(f"metrics[{name!r}]: {value} is not a finite number")
        if any(not k for k in self.tags):
            raise InvalidArgument("tags: a tag key is empty")
        if self.parent_version < 0:
            raise InvalidArgument(f"parent_version: {self.parent_version} is negative")
        if self.feature_width < 0:
            raise InvalidArgument(f"feature_width: {self.feature_width} is negative")
        if self.feature_view_version < 0:
            raise InvalidArgument(f"feature_view_version: {self.feature_view_version} is negative")
        if self.expected_sha256 and not re.fullmatch(r"[0-9a-f]{64}", self.expected_sha256):
            raise InvalidArgument("expected_sha256: not 64 lowercase hex digits")


@dataclass(frozen=True)
class ModelVersion:
    model: str
    version: int
    artifact_sha256: str
    artifact_size: int
    signature: Signature
    created_at: datetime
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    run_id: str = ""
    dataset_snapshot_id: str = ""
    parent_version: int = 0
    feature_view: str = ""
    feature_view_version: int = 0
    reference_profile: bytes = b""
    task: TaskKind = TaskKind.UNSPECIFIED
    description: str = ""
    caused_by_event_id: str = ""
    # Aliases pointing at this version when it was read.
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class AliasChange:
    """One entry of a model's append-only alias history (version 0: deleted)."""

    model: str
    alias: str
    version: int
    previous_version: int
    reason: str
    caused_by_event_id: str
    changed_at: datetime
    sequence: int


@dataclass(frozen=True)
class AliasWrite:
    """A requested alias change: point ``alias`` at ``version`` (0: delete it),
    only if it points at ``expected`` now (None: unconditionally; 0: unset)."""

    alias: str
    version: int
    expected: int | None = None


@dataclass(frozen=True)
class ModelSummary:
    name: str
    latest_version: int
    aliases: dict[str, int]


@dataclass(frozen=True)
class MetricFilter:
    metric: str
    op: str
    value: float

    def __post_init__(self) -> None:
        if self.op not in METRIC_OPS:
            raise InvalidArgument(
                f"metrics[{self.metric!r}].op: {self.op!r} is not one of {', '.join(METRIC_OPS)}"
            )

    def matches(self, metrics: dict[str, float]) -> bool:
        if self.metric not in metrics:
            return False
        got = metrics[self.metric]
        return {
            "<": got < self.value,
            "<=": got <= self.value,
            ">": got > self.value,
            ">=": got >= self.value,
            "==": got == self.value,
        }[self.op]


@dataclass(frozen=True)
class VersionFilter:
    """Which versions ListModelVersions returns: all conditions must hold."""

    alias: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    metrics: tuple[MetricFilter, ...] = ()

    def matches(self, version: ModelVersion) -> bool:
        if self.alias and self.alias not in version.aliases:
            return False
        if any(version.tags.get(k) != v for k, v in self.tags.items()):
            return False
        return all(f.matches(version.metrics) for f in self.metrics)


def check_model_name(name: str) -> None:
    if not _MODEL_NAME.match(name):
        raise InvalidArgument(
            f"model: {name!r} is not a valid name (1-128 of letters, digits, '.', '_', '-')"
        )


def check_alias_name(alias: str) -> None:
    if not _ALIAS_NAME.match(alias):
        raise InvalidArgument(
            f"alias: {alias!r} is not a valid alias (a letter, then up to 63 of letters, "
            "digits, '.', '_', '-')"
        )
