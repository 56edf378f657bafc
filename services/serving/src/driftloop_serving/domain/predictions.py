"""What a model predicted, per row, read from its outputs by the driftloop
model conventions (docs/CONTRACTS.md): classifiers output ``label`` and
``probabilities``, regressors ``variable``; the features are the ``input``
tensor's row."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from driftloop_serving.domain.models import VersionInfo
from driftloop_serving.domain.routing import Role


@dataclass(frozen=True, slots=True)
class Scored:
    """One scoring call (gRPC request or stream record), kept raw so that the
    hot path does no per-row work; :func:`rows` expands it later."""

    source: str  # "grpc" or "stream"
    request_id: str
    record_id: str
    entity_id: str
    info: VersionInfo
    role: Role
    feature_names: tuple[str, ...]
    features: np.ndarray | None  # [rows, width]
    outputs: dict[str, np.ndarray]
    latency_ms: float
    at: float  # unix seconds
    generated_id: bool = False  # record_id was made up: no label will join it
    vector_record_id: str = ""  # entity-keyed: the online vector the features came from


@dataclass(frozen=True, slots=True)
class Columns:
    """What one scored call predicted, as flat row-major lists: ``count``
    rows of features, one prediction each, and the class probabilities.
    Row ``i`` of a multi-row call joins as ``<record id>/<i>``."""

    count: int
    features: list[float]
    predictions: list[float]
    probabilities: list[float]


def columns(scored: Scored) -> Columns:
    """The call's rows, read with whole-array conversions (one per output,
    not one per row). Outputs that disagree on the row count raise
    ``ValueError``."""
    outputs = scored.outputs
    label, probs, value = (
        outputs.get("label"),
        outputs.get("probabilities"),
        outputs.get("variable"),
    )
    first = next(iter(outputs.values()), None)
    head = label if label is not None else value
    if head is None and first is not None and first.size and first.dtype.kind in "biuf":
        head = first
    n = _rows_of(head, probs, scored.features)
    if n == 0:
        return Columns(0, [], [], [])  # a call with no rows predicted nothing
    return Columns(
        n,
        _flat(scored.features, n),
        [0.0] * n if head is None else head.reshape(n, -1)[:, 0].astype(float).tolist(),
        _flat(probs, n),
    )


def _flat(array: np.ndarray | None, n: int) -> list[float]:
    if array is None:
        return []
    return array.reshape(n, -1).astype(float).ravel().tolist()


def _rows_of(*arrays: np.ndarray | None) -> int:
    for a in arrays:
        if a is not None and a.ndim >= 1:
            return int(a.shape[0])
    return 1
