"""Reuse before retrain: on drift, the model's earlier versions are scored on
the post-drift window; one that beats the champion there by the gate margin
becomes the candidate without training (a concept that came back)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np
import structlog

from driftloop.platform.spec import FeatureViewSpec, ModelSpec
from driftloop_training.domain.evaluation import beats
from driftloop_training.domain.runs import RunFailed
from driftloop_training.service.ports import Registry, VersionInfo
from driftloop_training.service.promotion import gate_metric, registry_call

log = structlog.get_logger(__name__)

#: Earlier versions scored per drift, newest first: bounded work per run.
MAX_VERSIONS = 5

Evaluate = Callable[[bytes, np.ndarray, np.ndarray, str], Awaitable[dict[str, float]]]


@dataclass(frozen=True)
class Reusable:
    version: int
    metrics: dict[str, float]


async def best_earlier(
    registry: Registry,
    evaluate: Evaluate,
    model: ModelSpec,
    view: FeatureViewSpec,
    champion: VersionInfo,
    champion_metrics: dict[str, float],
    X: np.ndarray,
    y: np.ndarray,
) -> Reusable | None:
    """The earlier version that beats the champion on (X, y) by the margin and
    scores best, or None. A version that cannot be scored is skipped."""
    metric, margin = gate_metric(model), model.training.gate_margin
    earlier = [
        v
        for v in await registry_call(registry.versions(model.name))
        if v.version != champion.version
        and (v.feature_view, v.feature_view_version) == (view.name, view.version)
    ]
    best: Reusable | None = None
    for v in sorted(earlier, key=lambda v: -v.version)[:MAX_VERSIONS]:
        try:
            artifact = await registry_call(registry.download(model.name, v.version))
            metrics = await evaluate(artifact, X, y, model.task)
        except RunFailed:
            raise
        except Exception as exc:
            log.warning("training.reuse_unscorable", version=v.version, error=repr(exc))
            continue
        good = beats(metrics, champion_metrics, metric=metric, margin=margin)
        if good and (best is None or beats(metrics, best.metrics, metric=metric, margin=1e-12)):
            best = Reusable(v.version, metrics)
    return best
