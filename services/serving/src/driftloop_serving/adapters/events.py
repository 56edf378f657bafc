"""Publishes serving's events through the platform bus."""

from __future__ import annotations

import asyncio

import structlog
from google.protobuf.message import Message

from driftloop.common.v1 import common_pb2
from driftloop.platform.bus import EventBus
from driftloop.serving.v1 import events_pb2
from driftloop_serving.codec import converters
from driftloop_serving.domain.models import VersionInfo
from driftloop_serving.domain.routing import Role

log = structlog.get_logger(__name__)


class BusEvents:
    """Lifecycle events and prediction batches on the bus."""

    def __init__(self, bus: EventBus, timeout_s: float = 5.0) -> None:
        self.bus = bus
        self.timeout_s = timeout_s

    async def _publish(self, event: Message, key: str) -> None:
        # A lifecycle event must never hold up a model switch.
        try:
            async with asyncio.timeout(self.timeout_s):
                await self.bus.publish(event, key=key)
        except Exception as exc:
            log.warning("event.publish_failed", type=event.DESCRIPTOR.name, error=repr(exc))

    async def loaded(self, info: VersionInfo, role: Role, load_ms: float) -> None:
        await self._publish(
            events_pb2.ModelLoaded(
                meta=self.bus.meta(),
                model=common_pb2.ModelRef(name=info.model, version=info.version),
                role=converters.ROLE_PB[role],
                load_ms=load_ms,
            ),
            info.model,
        )

    async def failed(self, info: VersionInfo, reason: str) -> None:
        await self._publish(
            events_pb2.ModelLoadFailed(
                meta=self.bus.meta(),
                model=common_pb2.ModelRef(name=info.model, version=info.version),
                reason=reason,
            ),
            info.model,
        )

    async def registry_fault(self, info: VersionInfo, alias: str, reason: str) -> None:
        await self._publish(
            events_pb2.RegistryAnswerLacksModel(
                meta=self.bus.meta(),
                model=common_pb2.ModelRef(name=info.model, version=info.version),
                alias=alias,
                reason=reason,
            ),
            info.model,
        )
