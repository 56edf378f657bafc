"""Ops' view of and hand on traffic splits. A pin is platform-wide: it is
published (``TrafficSplitPinned`` on ``driftloop.rollouts``) for every
replica — and any started later — to apply, and applied here at once so that
the replica that took the call answers with it."""

from __future__ import annotations

from typing import Protocol

from driftloop.platform.errors import InvalidArgument, NotFound
from driftloop_serving.domain.models import Catalog, ServedModel
from driftloop_serving.domain.routing import Mode, TrafficSplit
from driftloop_serving.service.rollouts import Rollouts


class PinLog(Protocol):
    """Where pins are published (the rollouts topic in production)."""

    async def pin_changed(self, model: str, pin: TrafficSplit | None) -> None:
        """Durably record a pin, or its clearing (None); raises when it cannot."""
        ...


class Admin:
    def __init__(self, catalog: Catalog, rollouts: Rollouts, pins: PinLog) -> None:
        self.catalog = catalog
        self.rollouts = rollouts
        self.pins = pins

    def state(self, model: str) -> ServedModel:
        served = self.catalog.get(model)
        if served is None:
            raise NotFound(f"model {model!r} is not served here")
        return served

    async def pin(self, model: str, share: float, mode: Mode) -> ServedModel:
        """Fix the candidate share until :meth:`clear`, whatever rollouts say."""
        if not 0.0 <= share <= 1.0:
            raise InvalidArgument(f"candidate_share {share} is not in [0, 1]")
        served = self.state(model)
        # Published first: a pin that other replicas would never see is
        # not applied here either (the caller gets UNAVAILABLE and retries).
        await self.pins.pin_changed(model, TrafficSplit(share=share, mode=mode, pinned=True))
        self.rollouts.pinned(model, share, mode)
        return served

    async def clear(self, model: str) -> ServedModel:
        served = self.state(model)
        await self.pins.pin_changed(model, None)
        self.rollouts.cleared(model)
        return served
