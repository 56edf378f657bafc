"""Holdout metrics, the gate, and the reference profile."""

import numpy as np

from driftloop_training.domain.evaluation import (
    classification_metrics,
    gate,
    regression_metrics,
)
from driftloop_training.domain.profile import build_profile


def test_classification_metrics():
    y = np.array([0, 1, 1, 0])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]], dtype=np.float32)
    m = classification_metrics(y, probs.argmax(axis=1), probs)
    assert m["accuracy"] == 0.75
    assert m["roc_auc"] == 1.0
    assert 0 < m["log_loss"] < 1


def test_regression_metrics():
    m = regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([[1.0], [2.0], [5.0]]))
    assert m["mae"] == 2 / 3 and abs(m["rmse"] - np.sqrt(4 / 3)) < 1e-12


def test_gate_not_worse_with_margin():
    champion = {"accuracy": 0.90}
    kw = dict(metric="accuracy", margin=0.02, mode="not_worse", after_drift=False)
    assert gate({"accuracy": 0.885}, champion, **kw).passed
    result = gate({"accuracy": 0.85}, champion, **kw)
    assert not result.passed and "worse" in result.reason


def test_gate_lower_is_better_metrics():
    kw = dict(metric="rmse", margin=0.0, mode="not_worse", after_drift=False)
    assert gate({"rmse": 1.0}, {"rmse": 1.1}, **kw).passed
    assert not gate({"rmse": 1.2}, {"rmse": 1.1}, **kw).passed


def test_gate_better_after_drift_needs_strict_improvement_after_drift_only():
    kw = dict(metric="accuracy", margin=0.05, mode="better_after_drift")
    assert not gate({"accuracy": 0.9}, {"accuracy": 0.9}, after_drift=True, **kw).passed
    assert gate({"accuracy": 0.91}, {"accuracy": 0.9}, after_drift=True, **kw).passed
    assert gate({"accuracy": 0.88}, {"accuracy": 0.9}, after_drift=False, **kw).passed


def test_gate_without_champion_passes():
    kw = dict(metric="accuracy", margin=0.0, mode="not_worse", after_drift=True)
    assert gate({"accuracy": 0.5}, None, **kw).passed
    assert not gate({"mae": 0.5}, None, **kw).passed


def test_profile_has_quantile_bins_and_distributions():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=1000), np.full(1000, 3.0)])
    y = (X[:, 0] > 0).astype(int)
    p = build_profile(X, y, y, ["a", "const"], "classification", bins=10)
    a, const = p.features
    assert len(a.bin_edges) == 11 and sum(a.counts) == 1000
    assert max(a.counts) - min(a.counts) <= 2  # quantile bins hold equal shares
    assert const.bin_edges == [3.0, 3.0] and const.counts == [1000]
    assert p.label.categories == ["0", "1"] and sum(p.label.counts) == 1000
    assert p.rows == 1000
