"""Drains the outbox: publishes committed facts in commit order and marks them
published only after the broker acknowledged them (at least once; a crash in
between publishes them again, with the same event ids)."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from driftloop_registry.service.ports import EventSink, Repository

log = structlog.get_logger(__name__)


class OutboxRelay:
    def __init__(
        self, repo: Repository, sink: EventSink, poll_s: float = 1.0, batch: int = 100
    ) -> None:
        self.repo = repo
        self.sink = sink
        self.poll_s = poll_s
        self.batch = batch
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """Something was committed: drain now rather than at the next poll."""
        self._wake.set()

    async def drain(self) -> int:
        """Publish everything pending; returns how many events went out."""
        total = 0
        while events := await self.repo.pending_events(self.batch):
            await self.sink.publish(events)
            await self.repo.mark_published([e.id for e in events])
            total += len(events)
            log.info("outbox.published", events=len(events))
        return total

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
