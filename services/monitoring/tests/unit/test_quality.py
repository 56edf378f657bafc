"""Quality windows for classification and regression, and the canary score
of a regression metric."""

from __future__ import annotations

import math

import pytest

from driftloop_monitoring.domain.model import Joined, Label, Prediction
from driftloop_monitoring.domain.quality import QualityWindow, sample_score


def joined(pred: float, label: float, probs: tuple[float, ...] = ()) -> Joined:
    return Joined(
        Prediction("r", "m", 1, "champion", pred, probabilities=probs), Label("r", label), 0
    )


def test_classification_metrics():
    q = QualityWindow("classification", size=4)
    for pred, label, p1 in [(1, 1, 0.9), (0, 0, 0.2), (1, 0, 0.6), (0, 1, 0.4), (1, 1, 0.7)]:
        q.add(joined(pred, label, (1 - p1, p1)))
    m = q.metrics()  # the window keeps the last four
    assert m["accuracy"] == pytest.approx(0.5)
    expected = -(math.log(0.8) + math.log(0.4) + math.log(0.4) + math.log(0.7)) / 4
    assert m["log_loss"] == pytest.approx(expected)
    assert m["roc_auc"] == pytest.approx(0.75)
    assert q.labelled == 5


def test_regression_metrics_and_canary_score():
    q = QualityWindow("regression", size=10)
    for pred, label in [(1.0, 2.0), (3.0, 3.0), (5.0, 2.0)]:
        q.add(joined(pred, label))
    assert q.metrics() == {"mae": pytest.approx(4 / 3), "rmse": pytest.approx(math.sqrt(10 / 3))}
    # Larger is better for every canary score, so losses come negated.
    assert sample_score(joined(5.0, 2.0), "regression", "mae") == -3.0
    assert sample_score(joined(5.0, 2.0), "regression", "rmse") == -9.0
    assert sample_score(joined(1.0, 1.0), "classification", "accuracy") == 1.0
