"""The reference profile of a model's training data: per-feature quantile
bins with counts, and the label and prediction distributions. Monitoring
compares live data against it (PSI, KS)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Histogram:
    name: str
    bin_edges: list[float] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    count: int = 0
    mean: float = 0.0
    std: float = 0.0


@dataclass(frozen=True)
class Profile:
    features: list[Histogram]
    label: Histogram
    prediction: Histogram
    rows: int


def numeric_histogram(name: str, values: np.ndarray, bins: int) -> Histogram:
    """Quantile bins (edges deduplicated, so a constant feature has one bin)."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return Histogram(name=name)
    edges = np.unique(np.quantile(v, np.linspace(0, 1, bins + 1)))
    if edges.size == 1:
        edges = np.array([edges[0], edges[0]])
    counts, _ = np.histogram(v, bins=edges)
    return Histogram(
        name=name,
        bin_edges=[float(e) for e in edges],
        counts=[int(c) for c in counts],
        count=int(v.size),
        mean=float(v.mean()),
        std=float(v.std()),
    )


def categorical_histogram(name: str, values: np.ndarray) -> Histogram:
    cats, counts = np.unique(np.asarray(values).astype(str), return_counts=True)
    return Histogram(
        name=name,
        categories=[str(c) for c in cats],
        counts=[int(c) for c in counts],
        count=int(counts.sum()),
    )


def settled_rows(
    warm_up: dict[str, tuple[int, float]], entity_seq: np.ndarray, entity_age_s: np.ndarray
) -> dict[str, np.ndarray]:
    """Per feature that warms up (name → (earlier events, seconds) it needs),
    the rows past it: a rolling mean of an entity's first event is not yet
    the mean of its window, and a reference profiled on it would make live
    data look drifted once every entity has its history.

    >>> m = settled_rows({"mean_3": (2, 0.0)}, np.array([0, 1, 2, 5]), np.zeros(4))
    >>> m["mean_3"].tolist()
    [False, False, True, True]
    """
    return {
        name: (entity_seq >= events) & (entity_age_s >= seconds)
        for name, (events, seconds) in warm_up.items()
    }


#: Below this many settled rows a feature is profiled on all rows (better a
#: wide reference than an empty one).
MIN_SETTLED_ROWS = 50


def build_profile(
    X: np.ndarray,
    y: np.ndarray,
    predictions: np.ndarray,
    feature_names: list[str],
    task: str,
    bins: int = 10,
    settled: dict[str, np.ndarray] | None = None,
) -> Profile:
    """The profile of the training rows; a feature named in ``settled`` is
    profiled on the rows its mask keeps (see :func:`settled_rows`)."""
    settled = settled or {}

    def column(i: int, name: str) -> np.ndarray:
        mask = settled.get(name)
        if mask is not None and int(mask.sum()) >= MIN_SETTLED_ROWS:
            return X[mask, i]
        return X[:, i]

    features = [numeric_histogram(n, column(i, n), bins) for i, n in enumerate(feature_names)]
    if task == "classification":
        label = categorical_histogram("label", y)
        prediction = categorical_histogram("prediction", predictions)
    else:
        label = numeric_histogram("label", y, bins)
        prediction = numeric_histogram("prediction", predictions, bins)
    return Profile(features=features, label=label, prediction=prediction, rows=int(X.shape[0]))
