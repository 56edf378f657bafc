"""The record intake use case: validate a batch of submissions, dedupe,
publish the valid ones and dead-letter the rest, and report per record.

Both transports call :meth:`RecordIntake.ingest`: the raw-topic consumer with
one fetched batch, the gRPC servicer with one request. It returns only after
the broker acknowledged every published event; if publishing fails it raises
and nothing counts as accepted (the caller retries, the consumer re-reads).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

import structlog

from driftloop.platform.errors import Unavailable
from driftloop_ingestion.domain.bad_rate import BadRateWatch
from driftloop_ingestion.domain.recent import RecentIds
from driftloop_ingestion.domain.records import (
    DeadLetter,
    KafkaOrigin,
    Origin,
    Reason,
    Rejected,
    ValidRecord,
    dead_letter_id,
    record_id_for,
)
from driftloop_ingestion.service import metrics
from driftloop_ingestion.service.catalog import StreamCatalog
from driftloop_ingestion.service.ports import Outgoing, Publisher

log = structlog.get_logger(__name__)
UNKNOWN = "<unknown>"


@dataclass(slots=True)
class Submission:
    """One record as a transport received it, decoded as far as it could be."""

    original: bytes
    stream: str
    payload: Any = None  # the parsed object; None when decoding failed
    error: Rejected | None = None  # why decoding failed
    record_id: str = ""  # the caller's id when given outside the record
    origin: Origin | None = None
    headers: dict[str, bytes] = field(default_factory=dict)


class Received(Protocol):
    """What a dead letter keeps of a rejected submission (record or label)."""

    original: bytes
    stream: str
    origin: Origin | None
    headers: dict[str, bytes]


def dead_letter(
    sub: Received, exc: Rejected, *, caused_by: str = "", is_label: bool = False
) -> DeadLetter:
    """The dead letter of a rejected record or label, logged; the one place
    both intakes build it."""
    dead = DeadLetter(
        event_id=dead_letter_id(sub.origin),
        stream=sub.stream,
        original=sub.original,
        reason=exc.reason,
        field=exc.field,
        message=exc.message,
        origin=sub.origin,
        headers=sub.headers,
        is_label=is_label,
        caused_by=caused_by,
    )
    log.info(
        "label.rejected" if is_label else "record.rejected",
        event_id=dead.event_id,
        stream=sub.stream,
        reason=exc.reason.label,
        field=exc.field,
        message=exc.message,
    )
    return dead


class Status(Enum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


@dataclass(slots=True)
class Result:
    """What happened to one submission. ``event_id``: the record id when
    accepted or duplicate, the dead-letter event's id when rejected."""

    event_id: str
    status: Status
    rejection: Rejected | None = None


def new_id() -> str:
    return uuid.uuid4().hex


class RecordIntake:
    """Validates, dedupes and publishes records; see the module docstring."""

    def __init__(
        self,
        catalog: StreamCatalog,
        publisher: Publisher,
        *,
        dedupe: RecentIds,
        seen: RecentIds,
        watch: BadRateWatch,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.catalog = catalog
        self.publisher = publisher
        self.dedupe = dedupe
        self.seen = seen
        self.watch = watch
        self.clock = clock

    async def ingest(self, subs: Sequence[Submission]) -> list[Result]:
        started = time.perf_counter()
        now = self.clock()
        results: list[Result] = []
        out: list[Outgoing] = []
        claimed: list[tuple[str, str]] = []
        outcomes: dict[str, list[int]] = {}
        tally: Counter[tuple[str, str, str]] = Counter()
        for sub in subs:
            validator = self.catalog.validator(sub.stream)
            try:
                if sub.error is not None:
                    raise sub.error
                if validator is None:
                    raise Rejected(
                        Reason.UNKNOWN_STREAM,
                        "stream",
                        f"stream {sub.stream!r} is not registered"
                        if sub.stream
                        else "no stream given (header, key or default)",
                    )
                rec = validator.validate(sub.payload, sub.record_id)
            except Rejected as exc:
                dead = dead_letter(sub, exc, caused_by=sub.record_id)
                out.append(dead)
                results.append(Result(dead.event_id, Status.REJECTED, exc))
                known = sub.stream if validator is not None else UNKNOWN
                tally[known, "rejected", exc.reason.label] += 1
                if validator is not None:
                    outcomes.setdefault(sub.stream, []).append(exc.reason)
                continue
            if not rec.id_given:
                rec.record_id = record_id_for(sub.origin)
            if rec.id_given or type(sub.origin) is KafkaOrigin:
                key = (rec.stream, rec.record_id)
                if not self.dedupe.claim(key, now):
                    results.append(Result(rec.record_id, Status.DUPLICATE))
                    tally[rec.stream, "duplicate", ""] += 1
                    continue
                claimed.append(key)
            rec.origin = sub.origin
            out.append(rec)
            results.append(Result(rec.record_id, Status.ACCEPTED))
            tally[rec.stream, "accepted", ""] += 1
            outcomes.setdefault(rec.stream, []).append(0)
        validated_at = time.perf_counter()
        try:
            await self.publisher.publish(out)
        except Exception as exc:
            for key in claimed:
                self.dedupe.release(key)
            log.error("records.publish_failed", records=len(out), error=repr(exc))
            raise Unavailable(f"the broker did not acknowledge the records: {exc!r}") from exc
        for item in out:
            if type(item) is ValidRecord:
                self.seen.claim((item.stream, item.record_id), now)
        metrics.count_records(tally)
        await self._watch(outcomes, now)
        log.debug(
            "records.batch",
            records=len(subs),
            validate_ms=round((validated_at - started) * 1000, 2),
            publish_ms=round((time.perf_counter() - validated_at) * 1000, 2),
        )
        return results

    async def _watch(self, outcomes: dict[str, list[int]], now: float) -> None:
        alerts = [a for s, o in outcomes.items() if (a := self.watch.observe(s, o, now))]
        if not alerts:
            return
        for alert in alerts:
            log.warning("stream.bad_rate_exceeded", stream=alert.stream, rate=alert.rate)
            metrics.ALERTS.labels(alert.stream).inc()
        try:
            await self.publisher.publish(alerts)
        except Exception as exc:  # the records are out; an alert is best effort
            log.error("alert.publish_failed", error=repr(exc))

    async def ingest_stream(
        self, batches: AsyncIterator[Sequence[Submission]], max_inflight: int
    ) -> list[Result]:
        """Ingest a long stream of batches with at most ``max_inflight`` batches
        awaiting acks at once: the next batch is read only when one is done,
        so a fast producer is slowed down rather than buffered without bound.
        Results come back in submission order."""

        slots = asyncio.Semaphore(max_inflight)
        tasks: list[asyncio.Task[list[Result]]] = []

        async def run(batch: Sequence[Submission]) -> list[Result]:
            try:
                return await self.ingest(batch)
            finally:
                slots.release()

        try:
            while True:
                await slots.acquire()
                # A batch that failed (broker down) fails the call now, not at the end.
                for task in tasks:
                    if task.done() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
                batch = await anext(batches, None)
                if batch is None:
                    slots.release()
                    break
                tasks.append(asyncio.create_task(run(batch)))
            done = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return [r for batch_results in done for r in batch_results]
