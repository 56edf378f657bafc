"""Rollout state: the candidate's share and traffic mode per model, from
monitoring's rollout events and ops' pins (``TrafficSplitPinned``, published
by whichever replica took the admin call), applied in log order.

Each event comes with its position (its offset in ``driftloop.rollouts``,
which is keyed by model, so one model's events share a partition and their
offsets order them). The same events reach a replica twice at start — once
read back from the log to recover the state in force, once from its live
consumer — and again after a rebalance; an event at or before the position
already applied for its model changes nothing, so the newest state wins
whichever path brings it first."""

from __future__ import annotations

import structlog
from prometheus_client import Counter

from driftloop_serving.domain.models import Catalog
from driftloop_serving.domain.routing import Mode, TrafficSplit

log = structlog.get_logger(__name__)

STALE_ROLLOUT_EVENTS = Counter(
    "driftloop_serving_stale_rollout_events_total",
    "Rollout events ignored as not newer than the one applied",
    ["model"],
)


class Rollouts:
    """Applies rollout events to the catalog; ``position`` -1 (unknown) always applies."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._position: dict[str, int] = {}

    def started(
        self, model: str, rollout_id: str, share: float, mode: Mode, position: int = -1
    ) -> None:
        if self._stale(model, position):
            return
        self.catalog.rollout_target(model).start_rollout(rollout_id, share, mode)
        log.info(
            "rollout.started", model=model, rollout_id=rollout_id, share=share, mode=mode.value
        )

    def stepped(
        self,
        model: str,
        rollout_id: str,
        share: float,
        mode: Mode | None = None,
        position: int = -1,
    ) -> None:
        """A new share; ``mode`` None keeps the rollout's traffic mode."""
        if self._stale(model, position):
            return
        self.catalog.rollout_target(model).step_rollout(rollout_id, share, mode)
        log.info(
            "rollout.stepped",
            model=model,
            rollout_id=rollout_id,
            share=share,
            mode=mode.value if mode else "unchanged",
        )

    def completed(self, model: str, rollout_id: str, position: int = -1) -> None:
        """The rollout is over (its alias changes usually ended it already)."""
        if self._stale(model, position):
            return
        self.catalog.rollout_target(model).end_rollout(rollout_id)
        log.info("rollout.completed", model=model, rollout_id=rollout_id)

    def pinned(self, model: str, share: float, mode: Mode, position: int = -1) -> None:
        """Ops fixed the split: it beats any rollout share until cleared."""
        if self._stale(model, position):
            return
        served = self.catalog.rollout_target(model)
        rollout_id = served.rollout.rollout_id if served.rollout else ""
        served.pin = TrafficSplit(share=share, mode=mode, pinned=True, rollout_id=rollout_id)
        log.info("rollout.pinned", model=model, share=share, mode=mode.value)

    def cleared(self, model: str, position: int = -1) -> None:
        """The pin is gone: the rollout (or the default) decides again."""
        if self._stale(model, position):
            return
        self.catalog.rollout_target(model).pin = None
        log.info("rollout.pin_cleared", model=model)

    def _stale(self, model: str, position: int) -> bool:
        if position < 0:
            return False
        applied = self._position.get(model, -1)
        if position <= applied:
            STALE_ROLLOUT_EVENTS.labels(model).inc()
            log.debug(
                "rollout.stale_event_ignored",
                model=model,
                position=position,
                applied_position=applied,
            )
            return True
        self._position[model] = position
        return False
