"""What a model predicted, per row, read from its outputs by the driftloop
model conventions (docs/CONTRACTS.md): classifiers output ``label`` and
``probabilities``, regressors ``variable``; the features are the ``input``
tensor's row."""

from __future__ import annotations

from collections.abc import Iterator
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


@dataclass(frozen=True, slots=True)
class Row:
    """One prediction of one row."""

    record_id: str
    features: list[float]
    prediction: float
    probabilities: list[float]


def rows(scored: Scored) -> Iterator[Row]:
    """One :class:`Row` per scored row. A single-row call keeps the request's
    id as record id; row ``i`` of a batch gets ``<id>/<i>``."""
    label = scored.outputs.get("label")
    probs = scored.outputs.get("probabilities")
    value = scored.outputs.get("variable")
    first = next(iter(scored.outputs.values()), None)
    features = scored.features
    n = _rows_of(label, probs, value, first)
    for i in range(n):
        if label is not None:
            prediction = float(label.reshape(n, -1)[i, 0])
        elif value is not None:
            prediction = float(value.reshape(n, -1)[i, 0])
        elif first is not None and first.size and first.dtype.kind in "biuf":
            prediction = float(first.reshape(n, -1)[i, 0])
        else:
            prediction = 0.0
        yield Row(
            record_id=scored.record_id if n == 1 else f"{scored.record_id}/{i}",
            features=[] if features is None else features.reshape(n, -1)[i].astype(float).tolist(),
            prediction=prediction,
            probabilities=[] if probs is None else probs.reshape(n, -1)[i].astype(float).tolist(),
        )


def _rows_of(*arrays: np.ndarray | None) -> int:
    for a in arrays:
        if a is not None and a.ndim >= 1:
            return int(a.shape[0])
    return 1
