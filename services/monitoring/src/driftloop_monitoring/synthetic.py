"""Synthetic monitoring traffic from river's SEA generator, shared by the
tests and the benchmark.

The champion learned SEA concept 0 (``x0 + x1 > 8``); labels follow concept
0 with ``noise`` flips, or, after an abrupt change (a second SEA
generator), concept 3 (``x0 + x1 > 9.5``), which lifts the error
rate from about 0.10 to about 0.20. ``shift_feature`` adds a covariate shift
to one feature (x2 is irrelevant to the label, so the concept stays)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from river.datasets import synth

from driftloop_monitoring.domain.model import Histogram, Label, Prediction, VersionInfo

NAMES = ("x0", "x1", "x2")
THRESHOLD = 8.0  # what the champion learned (SEA variant 0)


@dataclass(frozen=True)
class Row:
    i: int
    x: tuple[float, ...]
    y_true: int
    y_pred: int


def rows(
    n: int,
    *,
    seed: int = 1,
    noise: float = 0.1,
    concept_change_at: int | None = None,
    shift_feature: str | None = None,
    shift_at: int = 0,
    shift_by: float = 2.0,
) -> Iterator[Row]:
    """``n`` rows of (features, label, champion's prediction)."""
    stream = synth.SEA(variant=0, noise=noise, seed=seed).take(n)
    if concept_change_at is not None:
        # An abrupt change: river's ConceptDriftStream overflows at width 1.
        stream = itertools.chain(
            synth.SEA(variant=0, noise=noise, seed=seed).take(concept_change_at),
            synth.SEA(variant=3, noise=noise, seed=seed + 1).take(n - concept_change_at),
        )
    shifted = NAMES.index(shift_feature) if shift_feature else -1
    for i, (x, y) in enumerate(stream):
        values = [x[0], x[1], x[2]]
        if i >= shift_at and shifted >= 0:
            values[shifted] += shift_by
        pred = int(values[0] + values[1] > THRESHOLD)  # the champion sees what is served
        yield Row(i, tuple(values), int(y), pred)


def reference(model: str = "m", version: int = 1, n: int = 10000, seed: int = 99) -> VersionInfo:
    """A version whose reference profile comes from ``n`` stationary rows."""
    sample = list(rows(n, seed=seed))
    data = np.array([r.x for r in sample])
    hists = []
    for j, name in enumerate(NAMES):
        edges = np.linspace(0.0, 10.0, 11)
        counts, _ = np.histogram(data[:, j], edges)
        hists.append(Histogram(name, tuple(int(c) for c in counts), tuple(float(e) for e in edges)))
    preds = [r.y_pred for r in sample]
    pred = Histogram("prediction", (preds.count(0), preds.count(1)), (), ("0", "1"))
    return VersionInfo(model, version, "classification", "sea", tuple(hists), pred)


def prediction(
    row: Row,
    model: str = "m",
    version: int = 1,
    role: str = "champion",
    at: float = 0.0,
    latency_ms: float = 2.0,
) -> Prediction:
    p1 = 0.8 if row.y_pred else 0.2
    return Prediction(
        record_id=f"r{row.i}",
        model=model,
        version=version,
        role=role,
        prediction=float(row.y_pred),
        probabilities=(1 - p1, p1),
        latency_ms=latency_ms,
        at=at,
        feature_names=NAMES,
        features=row.x,
    )


def label(row: Row, at: float = 0.0) -> Label:
    return Label(f"r{row.i}", float(row.y_true), at)
