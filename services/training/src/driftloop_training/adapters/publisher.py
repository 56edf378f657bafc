"""Publishes run transitions on ``driftloop.training`` (keyed by model) with
the causation chain of docs/CONTRACTS.md: Requested is caused by the drift
event (correlation = drift id); the later events are caused by Requested."""

from __future__ import annotations

from driftloop.common.v1.common_pb2 import EventMeta
from driftloop.platform.bus import EventBus
from driftloop_training.codec import converters
from driftloop_training.domain.runs import Run


class BusRunEvents:
    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    def _meta(self, run: Run, event_id: str | None, caused_by: str) -> EventMeta:
        meta = self.bus.meta(event_id=event_id, caused_by=caused_by or None)
        meta.correlation_id = run.correlation_id or run.requested_event_id
        return meta

    async def requested(self, run: Run) -> None:
        meta = self._meta(run, run.requested_event_id, run.cause_id)
        await self.bus.publish(converters.requested_event(run, meta), key=run.model)

    async def started(self, run: Run) -> None:
        meta = self._meta(run, None, run.requested_event_id)
        await self.bus.publish(converters.started_event(run, meta), key=run.model)

    async def completed(self, run: Run, event_id: str) -> None:
        meta = self._meta(run, event_id, run.requested_event_id)
        await self.bus.publish(converters.completed_event(run, meta), key=run.model)

    async def failed(self, run: Run) -> None:
        meta = self._meta(run, None, run.requested_event_id)
        await self.bus.publish(converters.failed_event(run, meta), key=run.model)
