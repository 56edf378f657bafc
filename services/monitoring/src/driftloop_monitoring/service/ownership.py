"""Which models this monitoring replica speaks for.

Every replica reads every input and keeps every model's state (a hot
standby), but only the holder of a model's lease (``driftloop.platform.
leases``, scope ``monitoring``) announces that model's drift and rollout
facts. The lease is renewed every third of its time to live; a replica
counts a model as its own only until 80 % of that time after the renewal
started, so a stalled replica falls silent before another can take over.
A replica that dies hands its models over once its leases expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable

import structlog

from driftloop.platform.lease_port import LeaseStore

log = structlog.get_logger(__name__)


class Ownership:
    def __init__(
        self,
        leases: LeaseStore,
        models: Callable[[], Iterable[str]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.leases = leases
        self.models = models
        self.clock = clock
        self._until: dict[str, float] = {}
        self._tried: set[str] = set()

    def owns(self, model: str) -> bool:
        return self._until.get(model, 0.0) > self.clock()

    async def speaks_for(self, model: str) -> bool:
        """Whether this replica announces ``model``'s facts. When its own
        count has lapsed (a model not seen before, or renewals that fell
        behind on a busy machine) it renews on the spot before answering."""
        if not self.owns(model):
            await self._take(model)
        return self.owns(model)

    async def refresh(self) -> list[str]:
        """Take or renew every model's lease that is free or ours; returns
        the models this replica has just come to own."""
        gained = []
        for model in sorted({*self.models(), *self._tried}):
            if await self._take(model):
                gained.append(model)
        return gained

    async def _take(self, model: str) -> bool:
        """Take or renew; True when the model has just become ours."""
        self._tried.add(model)
        began = self.clock()
        lease = await asyncio.to_thread(self.leases.take, model)
        if lease is None:
            self._until.pop(model, None)
            return False
        gained = not self.owns(model)
        if gained:
            log.info(
                "ownership.taken", model=model, epoch=lease.epoch, previous=lease.previous_holder
            )
        self._until[model] = began + 0.8 * self.leases.ttl_s
        return gained

    async def run(self, on_gained: Callable[[list[str]], Awaitable[None]]) -> None:
        """Keep the leases until cancelled; then hand them over at once."""
        try:
            while True:
                try:
                    gained = await self.refresh()
                    if gained:
                        await on_gained(gained)
                except Exception as exc:  # the lease database is away: try again
                    log.warning("ownership.refresh_failed", error=repr(exc))
                await asyncio.sleep(self.leases.ttl_s / 3)
        finally:
            owned, self._until = list(self._until), {}
            for model in owned:
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(self.leases.release, model)
