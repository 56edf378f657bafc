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


def build_profile(
    X: np.ndarray,
    y: np.ndarray,
    predictions: np.ndarray,
    feature_names: list[str],
    task: str,
    bins: int = 10,
) -> Profile:
    features = [numeric_histogram(n, X[:, i], bins) for i, n in enumerate(feature_names)]
    if task == "classification":
        label = categorical_histogram("label", y)
        prediction = categorical_histogram("prediction", predictions)
    else:
        label = numeric_histogram("label", y, bins)
        prediction = numeric_histogram("prediction", predictions, bins)
    return Profile(features=features, label=label, prediction=prediction, rows=int(X.shape[0]))
