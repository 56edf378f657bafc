"""Windowed two-sample tests of live values against a reference histogram:
PSI plus KS (numeric) or chi-squared (categorical).

Quiet on stationary data by construction: a feature counts as drifted only
when its PSI passes the threshold *and* its test rejects at ``alpha`` divided
by the number of features tested (Bonferroni), and windows do not overlap.
The KS statistic is taken at the reference's bin edges only (where the
reference CDF is exact), which makes its p-value conservative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from driftloop_monitoring.domain.model import Histogram

SMOOTH = 1e-4


@dataclass(frozen=True)
class FeatureResult:
    name: str
    psi: float
    test: str  # ks or chi2
    statistic: float
    p_value: float
    drifted: bool


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two count vectors over the same bins.

    >>> round(psi(np.array([50, 50]), np.array([50, 50])), 6)
    0.0
    >>> psi(np.array([90, 10]), np.array([10, 90])) > 1
    True
    """
    e = np.maximum(expected / max(expected.sum(), 1), SMOOTH)
    a = np.maximum(actual / max(actual.sum(), 1), SMOOTH)
    return float(np.sum((a - e) * np.log(a / e)))


def bin_numeric(values: Sequence[float], edges: Sequence[float]) -> np.ndarray:
    """Counts of values in the reference bins; values outside go to the end bins."""
    inner = np.asarray(edges[1:-1], dtype=float)
    idx = np.searchsorted(inner, np.asarray(values, dtype=float), side="right")
    return np.bincount(idx, minlength=len(edges) - 1)


def category_of(value: float | str) -> str:
    """One spelling per category, so that 1, 1.0 and "1.0" all read "1".

    >>> [category_of(v) for v in (1, 1.0, "1.0", "red", 2.5)]
    ['1', '1', '1', 'red', '2.5']
    """
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        value = number
    return str(int(value)) if float(value).is_integer() else str(value)


def compare(
    ref: Histogram, values: Sequence[float | str], *, psi_threshold: float, alpha: float
) -> FeatureResult:
    """Test one feature's recent values against its reference histogram."""
    from scipy import special, stats  # a second of CPU to import: at the first window

    expected = np.asarray(ref.counts, dtype=float)
    if ref.numeric:
        actual = bin_numeric([float(v) for v in values], ref.edges)
        n, m = actual.sum(), expected.sum()
        d = float(np.max(np.abs(np.cumsum(actual) / n - np.cumsum(expected) / m)))
        n_eff = n * m / (n + m)
        p = float(special.kolmogorov(d * math.sqrt(n_eff))) if d > 0 else 1.0
        test, statistic = "ks", d
    else:
        index = {category_of(c): i for i, c in enumerate(ref.categories)}
        actual = np.zeros(len(ref.categories) + 1)
        for v in values:
            actual[index.get(category_of(v), len(ref.categories))] += 1
        expected = np.append(expected, 0.0)
        probs = np.maximum(expected / expected.sum(), SMOOTH)
        probs = probs / probs.sum()
        res = stats.chisquare(actual, probs * actual.sum())
        test, statistic, p = "chi2", float(res.statistic), float(res.pvalue)
    value = psi(expected, actual)
    drifted = value >= psi_threshold and p < alpha
    return FeatureResult(ref.name, value, test, statistic, p, drifted)


def compare_all(
    refs: Sequence[Histogram],
    window: dict[str, list[float | str]],
    *,
    psi_threshold: float,
    alpha: float,
) -> list[FeatureResult]:
    """Test every feature that has a reference, with Bonferroni over features."""
    tested = [r for r in refs if window.get(r.name) and sum(r.counts) > 0]
    per_test = alpha / max(1, len(tested))
    return [compare(r, window[r.name], psi_threshold=psi_threshold, alpha=per_test) for r in tested]
