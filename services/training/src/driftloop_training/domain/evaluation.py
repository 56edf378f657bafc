"""Holdout metrics and the evaluation gate."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LOWER_IS_BETTER = {"log_loss", "mae", "rmse"}


def classification_metrics(
    y: np.ndarray, label: np.ndarray, probabilities: np.ndarray
) -> dict[str, float]:
    """accuracy, ROC AUC (binary: positive class; multiclass: one-vs-rest) and log loss."""
    from sklearn.metrics import log_loss, roc_auc_score

    out = {"accuracy": float(np.mean(label.astype(np.int64) == y))}
    n_classes = probabilities.shape[1]
    labels = list(range(n_classes))
    probs = np.clip(probabilities.astype(np.float64), 1e-15, 1.0)
    probs = probs / probs.sum(axis=1, keepdims=True)
    if len(set(y.tolist())) > 1 and set(y.tolist()) <= set(labels):
        if n_classes == 2:
            out["roc_auc"] = float(roc_auc_score(y, probs[:, 1]))
        else:
            out["roc_auc"] = float(roc_auc_score(y, probs, multi_class="ovr", labels=labels))
    if set(y.tolist()) <= set(labels):
        out["log_loss"] = float(log_loss(y, probs, labels=labels))
    return out


def regression_metrics(y: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    err = predicted.reshape(-1).astype(np.float64) - y.astype(np.float64)
    return {"mae": float(np.mean(np.abs(err))), "rmse": float(math.sqrt(np.mean(err**2)))}


@dataclass(frozen=True)
class GateResult:
    passed: bool
    reason: str


def gate(
    new: dict[str, float],
    champion: dict[str, float] | None,
    *,
    metric: str,
    margin: float,
    mode: str,
    after_drift: bool,
) -> GateResult:
    """Whether a new model may become the candidate.

    ``not_worse``: within ``margin`` of the champion on ``metric``.
    ``better_after_drift``: after drift, strictly better than the champion;
    otherwise as ``not_worse``. Without a comparable champion the gate passes.
    """
    if metric not in new:
        return GateResult(False, f"metric {metric!r} not computed for the new model")
    if not champion or metric not in champion:
        return GateResult(True, "no comparable champion")
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    delta = sign * (new[metric] - champion[metric])  # > 0: new is better
    text = f"{metric} new={new[metric]:.4f} champion={champion[metric]:.4f}"
    if mode == "better_after_drift" and after_drift:
        return GateResult(delta > 0, f"{text}: {'better' if delta > 0 else 'not better'}")
    ok = delta >= -margin
    return GateResult(ok, f"{text} margin={margin}: {'not worse' if ok else 'worse'}")


def beats(new: dict[str, float], champion: dict[str, float], *, metric: str, margin: float) -> bool:
    """Whether ``new`` is better than ``champion`` on ``metric`` by at least ``margin``.

    >>> beats({"accuracy": 0.9}, {"accuracy": 0.6}, metric="accuracy", margin=0.02)
    True
    >>> beats({"rmse": 1.0}, {"rmse": 1.01}, metric="rmse", margin=0.02)
    False
    """
    if metric not in new or metric not in champion:
        return False
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    return sign * (new[metric] - champion[metric]) >= margin
