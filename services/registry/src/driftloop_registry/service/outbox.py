"""Drains the outbox: publishes committed facts in commit order and marks them
published only after the broker acknowledged them (at least once; a crash in
between publishes them again, with the same event ids). Any number of
replicas may run a relay: each batch is claimed in the database, so while
relays live every event goes out once."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from driftloop_registry.service.ports import EventSink, PendingEvent, Repository

log = structlog.get_logger(__name__)


class OutboxRelay:
    def __init__(
        self,
        repo: Repository,
        sink: EventSink,
        poll_s: float = 1.0,
        batch: int = 100,
        publish_timeout_s: float = 10.0,
    ) -> None:
        self.repo = repo
        self.sink = sink
        self.poll_s = poll_s
        self.batch = batch
        self.publish_timeout_s = publish_timeout_s
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """Something was committed: drain now rather than at the next poll."""
        self._wake.set()

    async def drain(self) -> int:
        """Publish everything pending; returns how many events went out."""
        total = 0
        while published := await self.repo.publish_pending(self.batch, self._publish):
            total += published
            log.info("outbox.published", events=published)
        return total

    async def _publish(self, events: list[PendingEvent]) -> None:
        # Bounded: the claim (and, on SQLite, the write lock) is held meanwhile.
        await asyncio.wait_for(self.sink.publish(events), self.publish_timeout_s)

    async def run(self) -> None:
        """Drain until cancelled; failures are logged and retried with backoff."""
        delay = self.poll_s
        while True:
            self._wake.clear()
            try:
                await self.drain()
                delay = self.poll_s
            except asyncio.CancelledError:
                await self._last_drain()
                raise
            except Exception as exc:
                log.warning("outbox.publish_failed", error=repr(exc))
                delay = min(delay * 2, 30.0)
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except TimeoutError:
                pass
            except asyncio.CancelledError:
                await self._last_drain()
                raise

    async def _last_drain(self) -> None:
        # At shutdown: publish what was committed last rather than leave it to
        # the next start (the broker is still up when background jobs stop).
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.drain(), 5.0)
