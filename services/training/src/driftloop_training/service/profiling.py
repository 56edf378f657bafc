"""The reference profile of a run's training rows, minus each per-entity
feature's warm-up rows (from the feature view's spec)."""

from __future__ import annotations

import numpy as np

from driftloop.platform.spec import FeatureViewSpec
from driftloop_training.domain.dataset import Frame
from driftloop_training.domain.profile import Profile, build_profile, settled_rows


def warm_up(view: FeatureViewSpec) -> dict[str, tuple[int, float]]:
    """Per feature that aggregates an entity's history: how many earlier
    events and how many seconds of history it needs to be itself."""
    out: dict[str, tuple[int, float]] = {}
    for f in view.features:
        if f.kind == "rolling":
            out[f.name] = ((f.window_events or 1) - 1, f.window_seconds or 0.0)
        elif f.kind == "time_since_previous":
            out[f.name] = (1, 0.0)
    return out


def training_profile(
    frame: Frame, predictions: np.ndarray, view: FeatureViewSpec, task: str, bins: int
) -> Profile:
    X, y = frame.train
    settled = None
    if frame.entity_seq is not None and frame.entity_age_s is not None:
        n = len(y)
        settled = settled_rows(warm_up(view), frame.entity_seq[:n], frame.entity_age_s[:n])
    return build_profile(X, y, predictions, frame.feature_names, task, bins=bins, settled=settled)
