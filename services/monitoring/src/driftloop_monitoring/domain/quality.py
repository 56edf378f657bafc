"""Quality of one model version in one role over a sliding window of
labelled predictions: accuracy, log loss, ROC AUC (classification); MAE and
RMSE (regression). Also the per-prediction loss the concept-drift detector
watches and the per-prediction score a canary is judged on."""

from __future__ import annotations

import math
from collections import deque

from driftloop_monitoring.domain.model import Joined

EPS = 1e-15


def prob_of_label(j: Joined) -> float:
    """The probability the model gave to the true class (classification)."""
    probs = j.prediction.probabilities
    k = round(j.label.value)
    if probs and 0 <= k < len(probs):
        return min(max(probs[k], EPS), 1 - EPS)
    return 1 - EPS if round(j.prediction.prediction) == k else EPS


def loss(j: Joined, task: str) -> float:
    """Per-prediction loss: 0/1 error (classification) or absolute error."""
    if task == "regression":
        return abs(j.prediction.prediction - j.label.value)
    return 0.0 if round(j.prediction.prediction) == round(j.label.value) else 1.0


def sample_score(j: Joined, task: str, metric: str) -> float:
    """One prediction's contribution to ``metric``, signed so that larger is
    better (canary tests compare means of these)."""
    if metric == "accuracy":
        return 1.0 - loss(j, "classification")
    if metric == "log_loss":
        return math.log(prob_of_label(j))
    err = j.prediction.prediction - j.label.value
    if metric in ("mae",):
        return -abs(err)
    if metric in ("rmse", "mse"):
        return -(err * err)
    return -loss(j, task)


class QualityWindow:
    """The last ``size`` labelled predictions of one version in one role."""

    def __init__(self, task: str, size: int) -> None:
        self.task = task
        self.items: deque[tuple[float, float, float, float]] = deque(maxlen=size)
        self.predictions = 0
        self.labelled = 0

    def add(self, j: Joined) -> None:
        self.labelled += 1
        p1 = j.prediction.probabilities[1] if len(j.prediction.probabilities) > 1 else math.nan
        self.items.append((j.label.value, j.prediction.prediction, prob_of_label(j), p1))

    def metrics(self) -> dict[str, float]:
        if not self.items:
            return {}
        n = len(self.items)
        if self.task == "regression":
            errs = [p - y for y, p, _, _ in self.items]
            return {
                "mae": sum(abs(e) for e in errs) / n,
                "rmse": math.sqrt(sum(e * e for e in errs) / n),
            }
        out = {
            "accuracy": sum(round(p) == round(y) for y, p, _, _ in self.items) / n,
            "log_loss": -sum(math.log(q) for _, _, q, _ in self.items) / n,
        }
        auc = roc_auc([(y, s) for y, _, _, s in self.items if not math.isnan(s)])
        if auc is not None:
            out["roc_auc"] = auc
        return out


def roc_auc(pairs: list[tuple[float, float]]) -> float | None:
    """Binary ROC AUC by the rank-sum formula (ties share ranks); None when
    one class is missing.

    >>> roc_auc([(0, 0.1), (0, 0.4), (1, 0.35), (1, 0.8)])
    0.75
    """
    pos = sum(1 for y, _ in pairs if round(y) == 1)
    neg = len(pairs) - pos
    if not pos or not neg:
        return None
    ranked = sorted(pairs, key=lambda t: t[1])
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        k = i
        while k + 1 < len(ranked) and ranked[k + 1][1] == ranked[i][1]:
            k += 1
        avg = (i + k) / 2 + 1
        rank_sum += avg * sum(1 for t in ranked[i : k + 1] if round(t[0]) == 1)
        i = k + 1
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)
