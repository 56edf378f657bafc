"""The metrics port; the Prometheus adapter lives in ``adapters.prometheus``."""

from __future__ import annotations

from typing import Protocol


class Metrics(Protocol):
    """What the monitor reports as it goes. The bodies here do nothing, so
    ``NullMetrics`` is this protocol made concrete."""

    def quality(self, model: str, version: int, role: str, values: dict[str, float]) -> None:
        return None

    def prediction(self, model: str, version: int, role: str) -> None:
        return None

    def labelled(self, model: str, version: int, role: str, lag_s: float) -> None:
        return None

    def unmatched(self, what: str, n: int) -> None:
        return None

    def unjoinable(self, model: str) -> None:
        return None

    def feature_drift(self, model: str, feature: str, psi: float, statistic: float) -> None:
        return None

    def drift(self, model: str, kind: str, detector: str) -> None:
        return None

    def verdict(self, model: str, verdict: str) -> None:
        return None

    def canary(self, model: str, phase: str, share: float, cand: float, champ: float) -> None:
        return None


class NullMetrics(Metrics):
    """Records nothing (unit tests, benchmarks of the core)."""
