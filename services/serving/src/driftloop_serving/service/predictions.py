"""The prediction sink: the response path drops each scored call into a
bounded buffer and returns; a background task publishes the buffer in
batches. A full buffer or a broker that is down never blocks or fails a
response: what could not be published is counted and logged."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Awaitable, Callable

import structlog
from prometheus_client import Counter

from driftloop_serving.domain.predictions import Scored

log = structlog.get_logger(__name__)

PUBLISHED = Counter(
    "driftloop_serving_prediction_events_published_total",
    "Scoring calls whose prediction events were published",
)
UNPUBLISHED = Counter(
    "driftloop_serving_prediction_events_unpublished_total",
    "Scoring calls whose prediction events could not be published",
    ["reason"],
)

#: Publishes a batch; returns how many of its calls were skipped as unconvertible.
Publish = Callable[[list[Scored]], Awaitable[int]]


class PredictionSink:
    """Bounded buffer plus a background publisher (run :meth:`run` as a task)."""

    def __init__(
        self,
        publish: Publish,
        *,
        capacity: int = 100_000,
        batch_size: int = 500,
        publish_timeout_s: float = 10.0,
        linger_s: float = 0.02,
    ) -> None:
        self._publish = publish
        self._buffer: collections.deque[Scored] = collections.deque()
        self._capacity = capacity
        self._batch_size = batch_size
        self._timeout = publish_timeout_s
        self._linger = linger_s
        self._wake = asyncio.Event()
        self.published = 0
        self.unpublished = 0

    def record(self, scored: Scored) -> None:
        """Queue a scored call for publishing; never blocks, never raises."""
        if len(self._buffer) >= self._capacity:
            self.unpublished += 1
            UNPUBLISHED.labels("buffer_full").inc()
            return
        self._buffer.append(scored)
        if not self._wake.is_set():
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    async def run(self) -> None:
        """Publish batches as they fill, until cancelled."""
        while True:
            await self._wake.wait()
            # Let a batch gather: one publish per request would cost more CPU
            # than the request itself.
            if len(self._buffer) < self._batch_size and self._linger:
                await asyncio.sleep(self._linger)
            self._wake.clear()
            while self._buffer:
                await self._publish_batch()

    async def flush(self) -> None:
        """Publish everything buffered (at stop)."""
        while self._buffer:
            await self._publish_batch()

    async def _publish_batch(self) -> None:
        batch = [self._buffer.popleft() for _ in range(min(self._batch_size, len(self._buffer)))]
        try:
            async with asyncio.timeout(self._timeout):
                skipped = await self._publish(batch)
        except asyncio.CancelledError:
            self._count_lost(len(batch), "stopped")
            raise
        except Exception as exc:
            self._count_lost(len(batch), "publish_failed")
            log.warning("predictions.publish_failed", lost=len(batch), error=repr(exc))
            return
        if skipped:
            self._count_lost(skipped, "unconvertible")
        self.published += len(batch) - skipped
        PUBLISHED.inc(len(batch) - skipped)

    def _count_lost(self, calls: int, reason: str) -> None:
        self.unpublished += calls
        UNPUBLISHED.labels(reason).inc(calls)
