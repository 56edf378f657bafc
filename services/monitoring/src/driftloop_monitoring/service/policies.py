"""Per-model policies from the declarative spec, with defaults for models the
spec does not name."""

from __future__ import annotations

from driftloop.platform.spec import DriftPolicy, RolloutPolicy, Spec
from driftloop_monitoring.domain.canary import Policy


class Policies:
    def __init__(
        self, spec: Spec | None, *, min_predictions: int = 30, max_prediction_psi: float = 2.0
    ) -> None:
        self.spec = spec
        self.min_predictions = min_predictions
        self.max_prediction_psi = max_prediction_psi

    def drift(self, model: str) -> DriftPolicy:
        m = self.spec.model(model) if self.spec else None
        return m.drift if m else DriftPolicy()

    def rollout(self, model: str) -> RolloutPolicy:
        m = self.spec.model(model) if self.spec else None
        return m.rollout if m else RolloutPolicy()

    def canary(self, model: str) -> Policy:
        r = self.rollout(model)
        return Policy(
            steps=tuple(r.steps),
            min_labelled=r.min_labelled_per_side,
            metric=r.metric,
            margin=r.margin,
            alpha=r.alpha,
            timeout_s=r.timeout_s,
            max_error_rate=r.max_error_rate,
            max_latency_p99_ratio=r.max_latency_p99_ratio,
            min_predictions=self.min_predictions,
            max_prediction_psi=self.max_prediction_psi,
            mode=r.mode,
        )

    def label_wait(self, model: str) -> float:
        return self.drift(model).label_wait_s
