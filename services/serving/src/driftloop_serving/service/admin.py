"""Ops' view of and hand on traffic splits."""

from __future__ import annotations

from driftloop.platform.errors import InvalidArgument, NotFound
from driftloop_serving.domain.models import Catalog, ServedModel
from driftloop_serving.domain.routing import Mode, TrafficSplit


class Admin:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def state(self, model: str) -> ServedModel:
        served = self.catalog.get(model)
        if served is None:
            raise NotFound(f"model {model!r} is not served here")
        return served

    def pin(self, model: str, share: float, mode: Mode) -> ServedModel:
        """Fix the candidate share until :meth:`clear`, whatever rollouts say."""
        if not 0.0 <= share <= 1.0:
            raise InvalidArgument(f"candidate_share {share} is not in [0, 1]")
        served = self.state(model)
        rollout_id = served.rollout.rollout_id if served.rollout else ""
        served.pin = TrafficSplit(share=share, mode=mode, pinned=True, rollout_id=rollout_id)
        return served

    def clear(self, model: str) -> ServedModel:
        served = self.state(model)
        served.pin = None
        return served
