"""Turns the monitor's facts into events with the causation chain of
docs/CONTRACTS.md and publishes them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import structlog

from driftloop.platform.bus import EventBus
from driftloop.platform.envelope import EventContext, new_meta
from driftloop_monitoring.domain.events import DriftFound, RolloutChanged
from driftloop_monitoring.entrypoints import converters
from driftloop_monitoring.service.monitor import Monitor

log = structlog.get_logger(__name__)


class Publisher:
    def __init__(self, bus: EventBus, monitor: Monitor) -> None:
        self.bus = bus
        self.monitor = monitor

    async def publish(
        self, facts: Iterable[DriftFound | RolloutChanged], ctx: EventContext | None = None
    ) -> None:
        for fact in facts:
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
