"""Publishes outbox entries as protobuf events on ``driftloop.models``, keyed
by model name."""

from __future__ import annotations

from collections.abc import Sequence

from driftloop.platform.bus import EventBus
from driftloop_registry.codec.converters import event_to_proto
from driftloop_registry.service.ports import PendingEvent


class BusEventSink:
    """Implements the ``EventSink`` port."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    async def publish(self, events: Sequence[PendingEvent]) -> None:
        await self.bus.publish_many([(event_to_proto(e), e.model) for e in events])
