"""Turns the monitor's facts into events with the causation chain of
docs/CONTRACTS.md and publishes them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import structlog

from driftloop.platform.bus import EventBus
from driftloop.platform.envelope import EventContext, new_meta
from driftloop_monitoring.codec import converters
from driftloop_monitoring.domain.events import DriftFound, RolloutChanged
from driftloop_monitoring.service.monitor import Monitor
from driftloop_monitoring.service.ownership import Ownership

log = structlog.get_logger(__name__)


class Publisher:
    def __init__(self, bus: EventBus, monitor: Monitor, ownership: Ownership | None = None) -> None:
        self.bus = bus
        self.monitor = monitor
        # With replicas: only the model's owner speaks (None: the only replica).
        self.ownership = ownership
        # Per model, the last rollout fact kept quiet because another replica
        # owned the model: said on taking over if that rollout is still on.
        self._unsaid: dict[str, RolloutChanged] = {}

    async def on_gained(self, models: list[str]) -> None:
        """This replica now owns ``models``: say what their previous owner may
        have died before saying (same event ids, so a repeat is deduped)."""
        for model in models:
            fact = self._unsaid.pop(model, None)
            if fact and self.monitor.rollouts.active.get(model) is not None:
                log.info("rollout.said_on_takeover", model=model, kind=fact.kind)
                await self.publish([fact])

    async def publish(
        self, facts: Iterable[DriftFound | RolloutChanged], ctx: EventContext | None = None
    ) -> None:
        for fact in facts:
            if self.ownership and not await self.ownership.speaks_for(fact.model):
                if isinstance(fact, RolloutChanged):
                    self._unsaid[fact.model] = fact
                log.info("fact.not_owner", model=fact.model, fact=type(fact).__name__)
                continue
            if isinstance(fact, DriftFound):
                # The drift id starts a new chain: it is the correlation id of
                # the retraining and rollout that follow.
                meta = new_meta(
                    "monitoring",
                    event_id=fact.drift_id,
                    caused_by=ctx.id if ctx and ctx.id else None,
                    occurred_at=datetime.fromtimestamp(fact.window_end, UTC),
                )
                meta.correlation_id = fact.drift_id
                await self.bus.publish(converters.drift_to_proto(fact, meta), key=fact.model)
                log.info(
                    "drift.published",
                    model=fact.model,
                    kind=fact.kind,
                    drift_id=fact.drift_id,
                    detector=fact.detector,
                )
            else:
                meta = new_meta(
                    "monitoring", event_id=fact.event_id, caused_by=fact.caused_by or None
                )
                if fact.correlation_id:
                    meta.correlation_id = fact.correlation_id
                await self.bus.publish(converters.rollout_to_proto(fact, meta), key=fact.model)
                self.monitor.report_rollout(fact)
                log.info(
                    "rollout.published",
                    model=fact.model,
                    kind=fact.kind,
                    rollout_id=fact.rollout_id,
                    verdict=fact.verdict,
                )
