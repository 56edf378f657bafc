"""Publishes intake results as driftloop events through the event bus."""

from __future__ import annotations

from collections.abc import Sequence

from driftloop.platform.bus import EventBus

from driftloop_ingestion.entrypoints import converters
from driftloop_ingestion.service.ports import Outgoing


class BusPublisher:
    """Maps each item to its event and key, and waits for the broker's acks."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    async def publish(self, items: Sequence[Outgoing]) -> None:
        if items:
            await self.bus.publish_many(converters.to_events(items, self.bus.source))
