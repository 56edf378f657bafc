"""Publishes serving's events through the platform bus."""

from __future__ import annotations

import asyncio

import structlog
from google.protobuf.message import Message

from driftloop.platform.bus import EventBus
from driftloop.platform.errors import Unavailable
from driftloop_serving.codec import converters
from driftloop_serving.domain.models import VersionInfo
from driftloop_serving.domain.routing import Role, TrafficSplit

log = structlog.get_logger(__name__)


class BusEvents:
    """Lifecycle events, registry faults and traffic-split pins on the bus;
    ``replica`` names this replica in the pins it publishes."""

    def __init__(self, bus: EventBus, timeout_s: float = 5.0, replica: str = "") -> None:
        self.bus = bus
        self.timeout_s = timeout_s
        self.replica = replica

    async def _publish(self, event: Message, key: str) -> None:
        # A lifecycle event must never hold up a model switch.
        try:
            async with asyncio.timeout(self.timeout_s):
                await self.bus.publish(event, key=key)
        except Exception as exc:
            log.warning("event.publish_failed", type=event.DESCRIPTOR.name, error=repr(exc))

    async def loaded(self, info: VersionInfo, role: Role, load_ms: float) -> None:
        await self._publish(
            converters.model_loaded(self.bus.meta(), info, role, load_ms), info.model
        )

    async def failed(self, info: VersionInfo, reason: str) -> None:
        await self._publish(converters.model_load_failed(self.bus.meta(), info, reason), info.model)

    async def registry_fault(self, info: VersionInfo, alias: str, reason: str) -> None:
        event = converters.registry_answer_lacks_model(self.bus.meta(), info, alias, reason)
        await self._publish(event, info.model)

    async def pin_changed(self, model: str, pin: TrafficSplit | None) -> None:
        """Publish a pin (None: cleared) and wait for the broker's ack; unlike
        a lifecycle event it must not be lost, so a failure is raised."""
        event = converters.traffic_split_pinned(self.bus.meta(), model, pin, self.replica)
        try:
            async with asyncio.timeout(self.timeout_s):
                await self.bus.publish(event, key=model)
        except Exception as exc:
            log.warning("pin.publish_failed", model=model, error=repr(exc))
            raise Unavailable(f"cannot publish the traffic split of {model!r}: {exc!r}") from exc
