"""The event bus: a faststream ``KafkaBroker`` carrying protobuf events with
CloudEvents headers.

Publishing: :class:`EventBus` picks the topic from the event type, sets the
headers from ``event.meta`` and waits for the broker's acknowledgement.

Consuming: :func:`subscribe` registers a handler ``async (event, ctx) -> None``
for one event type. The ack policy is explicit: offsets are committed only
after a whole fetched batch was handled (at-least-once). A payload that does
not decode, or a handler that still fails after its retries (or raises
:class:`Reject`), sends the original bytes, headers and the reason to
``driftloop.deadletter`` and the stream goes on: never a silent drop, never an
endless redelivery loop. Only when the dead-letter publish itself fails is the
batch left uncommitted, to be read again.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import structlog
from aiokafka import ConsumerRebalanceListener, ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.annotations import KafkaMessage
from google.protobuf.message import DecodeError, Message
from prometheus_client import Counter

from driftloop.bus.v1.deadletter_pb2 import EventDeadLettered
from driftloop.platform import topics
from driftloop.platform.envelope import (
    EventContext,
    context_from,
    headers_for,
    new_meta,
)

# aiokafka_options is re-exported: raw clients across the tree import it from here.
from driftloop.platform.kafka_client import aiokafka_options as aiokafka_options
from driftloop.platform.kafka_client import security_from
from driftloop.platform.settings import KafkaSettings

log = structlog.get_logger(__name__)

E = TypeVar("E", bound=Message)
Handler = Callable[[E, EventContext], Awaitable[None]]

EVENTS_PUBLISHED = Counter(
    "driftloop_events_published_total", "Events published", ["topic", "type"]
)
EVENTS_HANDLED = Counter(
    "driftloop_events_handled_total", "Events consumed and handled", ["topic", "type"]
)
EVENTS_DEADLETTERED = Counter(
    "driftloop_events_deadlettered_total", "Events sent to the dead-letter topic", ["topic"]
)


_DEAD_LETTER_NS = uuid.UUID("7d0c5a8e-2f4b-4c61-9e3a-5b8f1d2c6a90")


class Reject(Exception):
    """Raised by a handler for an event that can never succeed: it is
    dead-lettered at once with this reason instead of being retried."""


def producer_guarantees(settings: KafkaSettings, client_id: str) -> dict[str, Any]:
    """The idempotence and acks options of every producer, logged once per
    producer so that the log says which guarantee a service runs with."""
    idempotent = settings.idempotent
    log.info(
        "kafka.producer",
        client_id=client_id,
        idempotent=idempotent,
        acks="all" if idempotent else 1,
        idempotence_setting=settings.idempotence,
    )
    return {"enable_idempotence": idempotent, "acks": "all" if idempotent else 1}


def make_broker(settings: KafkaSettings, client_id: str) -> KafkaBroker:
    """A faststream broker configured from settings (security, idempotence)."""
    return KafkaBroker(
        # A list: faststream would take "a:9092,b:9092" for one host.
        settings.servers.split(","),
        client_id=client_id,
        security=security_from(settings),
        **producer_guarantees(settings, client_id),
        linger_ms=settings.linger_ms,
        allow_auto_create_topics=False,
        graceful_timeout=30.0,
        logger=None,
    )


def _headers(record: ConsumerRecord) -> dict[str, str]:
    # Producer apps may send headers that are not UTF-8; never fail on them.
    return {k: v.decode("utf-8", "replace") for k, v in (record.headers or ()) if v is not None}


async def safe_parse(record: Any, original: Callable[[Any], Awaitable[Any]]) -> Any:
    """A faststream ``parser=``: faststream's own parser decodes header values
    strictly as UTF-8; make them safe first so a producer's binary header
    cannot wedge a partition."""
    records = record if isinstance(record, tuple) else (record,)
    for r in records:
        if r.headers and any(_bad_utf8(v) for _, v in r.headers):
            r.original_headers = r.headers  # kept for the dead-letter record
            r.headers = tuple(
                (k, (v or b"").decode("utf-8", "replace").encode()) for k, v in r.headers
            )
    return await original(record)


def _bad_utf8(value: bytes | None) -> bool:
    try:
        (value or b"").decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


class EventBus:
    """Publishes events; one per service process, made in its composition root."""

    def __init__(self, broker: KafkaBroker, source: str, settings: KafkaSettings) -> None:
        self.broker = broker
        self.source = source
        self.settings = settings
        #: The id of the Kafka cluster (the log) this process reads; set by the
        #: runtime at start (``driftloop.platform.log_identity``).
        self.cluster_id = ""

    def meta(self, **kwargs: Any) -> Any:
        """A new :class:`EventMeta` with this service as the source."""
        return new_meta(self.source, **kwargs)

    async def publish(
        self, event: Message, *, key: str | bytes | None = None, topic: str | None = None
    ) -> None:
        """Publish and wait until the broker has acknowledged the event."""
        await self._send(event, key, topic, wait=True)

    async def publish_many(
        self, items: Iterable[tuple[Message, str | bytes | None]], *, topic: str | None = None
    ) -> None:
        """Publish events together and wait until the broker acknowledged all."""
        futures = [await self._send(e, k, topic, wait=False) for e, k in items]
        if futures:
            await asyncio.gather(*futures)

    async def _send(
        self, event: Message, key: str | bytes | None, topic: str | None, *, wait: bool
    ) -> Any:
        name = event.DESCRIPTOR.full_name
        target = topic or topics.TOPIC_OF[name]
        headers = headers_for(event)
        result = await self.broker.publish(
            event.SerializeToString(),
            target,
            key=key.encode() if isinstance(key, str) else key,
            headers=headers,
            # faststream writes a `correlation_id` header too (a fresh uuid
            # unless given): the event's own, so that an event carries one.
            correlation_id=headers.get("ce_correlationid", headers["ce_id"]),
            no_confirm=not wait,
        )
        EVENTS_PUBLISHED.labels(target, name).inc()
        return result

    async def dead_letter(
        self,
        record: ConsumerRecord,
        *,
        reason: str,
        error_type: str,
        group: str,
        attempts: int,
        expected: str,
    ) -> None:
        """Park an event that cannot be handled, with everything to replay it."""
        ctx = context_from(_headers(record))
        # The same record dead-lettered again (read twice after a rebalance or
        # a crash) gets the same id, so consumers can dedupe it like any event;
        # the cluster id keeps a reset log's offsets from reusing old ids.
        key = f"{self.cluster_id}/{group}/{record.topic}/{record.partition}/{record.offset}"
        event = EventDeadLettered(
            meta=self.meta(event_id=uuid.uuid5(_DEAD_LETTER_NS, key).hex, caused_by=ctx.id or None),
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key or b"",
            original=record.value or b"",
            reason=reason,
            error_type=error_type,
            consumer_group=group,
            attempts=attempts,
            expected_type=expected,
        )
        for k, v in getattr(record, "original_headers", record.headers) or ():
            event.original_headers[k] = v or b""
        await self.publish(event, key=record.topic)
        EVENTS_DEADLETTERED.labels(record.topic).inc()
        log.warning(
            "event.dead_lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=reason,
        )


class _Subscription:
    """One consumer of one topic in one group; dispatches by ``ce_type``.

    Several :func:`subscribe` calls for the same topic and group on the same
    broker share it: two consumers of one group in one process would split
    the partitions between them and each see only part of the stream.
    """

    def __init__(self, bus: EventBus, topic: str, group: str) -> None:
        self.bus = bus
        self.topic = topic
        self.group = group
        self.handlers: dict[str, tuple[type[Message], Handler[Any]]] = {}
        self.skipped: set[str] = (
            set(topics.by_name(topic).carries)
            if topic.startswith("driftloop.") and _known(topic)
            else set()
        )
        self.on_batch: list[Callable[[], Awaitable[None]]] = []
        self.retries = bus.settings.handler_retries
        self.backoff = bus.settings.retry_backoff_s

    def add(self, event_type: type[Message], handler: Handler[Any]) -> None:
        name = event_type.DESCRIPTOR.full_name
        if name in self.handlers:
            raise ValueError(f"{name} on {self.topic} already has a handler in {self.group}")
        self.handlers[name] = (event_type, handler)

    def _only_type(self) -> str:
        return next(iter(self.handlers)) if len(self.handlers) == 1 else ""

    async def handle_batch(self, records: Iterable[ConsumerRecord]) -> None:
        for record in records:
            await self.handle_one(record)
        for hook in self.on_batch:
            await hook()

    async def handle_one(self, record: ConsumerRecord) -> None:
        ctx = context_from(
            _headers(record), topic=record.topic, partition=record.partition, offset=record.offset
        )
        # Without a ce_type header (a producer that is not driftloop's) the
        # payload is taken as the one handled type, if there is just one.
        name = ctx.type or self._only_type()
        if name not in self.handlers:
            if name in self.skipped:
                return  # another event type of this topic, for other consumers
            wanted = ", ".join(self.handlers)
            await self._dead_letter(
                record,
                f"ce_type {ctx.type!r} is not handled here ({wanted})",
                "WrongType",
                0,
                wanted,
            )
            return
        event_type, handler = self.handlers[name]
        try:
            event = event_type.FromString(record.value or b"")
        except DecodeError as exc:
            await self._dead_letter(
                record, f"cannot decode as {name}: {exc}", "DecodeError", 0, name
            )
            return
        with structlog.contextvars.bound_contextvars(event_id=ctx.id, topic=record.topic):
            for attempt in range(1, self.retries + 1):
                try:
                    await handler(event, ctx)
                    EVENTS_HANDLED.labels(record.topic, name).inc()
                    return
                except Reject as exc:
                    await self._dead_letter(record, str(exc), "Reject", attempt, name)
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning(
                        "event.handler_failed",
                        attempt=attempt,
                        error=repr(exc),
                        exc_info=attempt == self.retries,
                    )
                    if attempt == self.retries:
                        await self._dead_letter(
                            record, repr(exc), type(exc).__name__, attempt, name
                        )
                        return
                    await asyncio.sleep(self.backoff * 2 ** (attempt - 1))

    async def _dead_letter(
        self, record: ConsumerRecord, reason: str, error_type: str, attempts: int, expected: str
    ) -> None:
        await self.bus.dead_letter(
            record,
            reason=reason,
            error_type=error_type,
            group=self.group,
            attempts=attempts,
            expected=expected,
        )


def _known(topic: str) -> bool:
    try:
        topics.by_name(topic)
    except KeyError:
        return False
    return True


_SUBSCRIPTIONS: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], _Subscription]] = (
    weakref.WeakKeyDictionary()
)


def subscribe(
    target: KafkaBroker | KafkaRouter,
    bus: EventBus,
    topic: str,
    event_type: type[E],
    handler: Handler[E],
    *,
    group: str,
    max_records: int = 500,
    from_beginning: bool = True,
    on_batch: Callable[[], Awaitable[None]] | None = None,
    ignore_types: Iterable[str] = (),
    on_revoked: Callable[[set[int]], Awaitable[None]] | None = None,
) -> None:
    """Consume ``event_type`` from ``topic`` in consumer group ``group``.

    ``handler`` is called once per event, in partition order, and must be
    idempotent (events can be redelivered after a crash). See the module
    docstring for the retry, dead-letter and commit policy.

    Calling it again for another event type of the same topic and group adds
    a handler to the same consumer (events are dispatched by ``ce_type``).
    Event types the topic carries that have no handler here are skipped (and
    committed); anything else is dead-lettered as the wrong type.

    ``on_batch`` (optional) runs after every event of a fetched batch was
    handled and before its offsets are committed: a handler can publish
    without waiting and await the acknowledgements there. If it raises, the
    batch is not committed and is read again.

    ``ignore_types`` (optional): further event type names to skip.

    ``on_revoked`` (optional, with the first subscription of a topic and
    group): called with the partition numbers the consumer gives up at a
    rebalance, before another member gets them, to drop their state.
    """
    registry = _SUBSCRIPTIONS.setdefault(target, {})
    sub = registry.get((topic, group))
    if sub is None:
        sub = registry[(topic, group)] = _Subscription(bus, topic, group)
        _register(
            target, sub, max_records=max_records, from_beginning=from_beginning, revoked=on_revoked
        )
    sub.add(event_type, handler)
    sub.skipped.update(ignore_types)
    if on_batch is not None:
        sub.on_batch.append(on_batch)


def _register(
    target: KafkaBroker | KafkaRouter,
    sub: _Subscription,
    *,
    max_records: int,
    from_beginning: bool,
    revoked: Callable[[set[int]], Awaitable[None]] | None = None,
) -> None:
    @target.subscriber(
        sub.topic,
        group_id=sub.group,
        batch=True,
        max_records=max_records,
        auto_offset_reset="earliest" if from_beginning else "latest",
        # Commit after the batch was handled; on an error that escaped (the
        # dead-letter publish failed, or an on_batch hook) seek back so the
        # batch is read again.
        ack_policy=AckPolicy.NACK_ON_ERROR,
        parser=safe_parse,
        decoder=lambda msg: msg.body,
        title=f"{sub.group}:{sub.topic}",
        listener=_OnRevoked(revoked) if revoked else None,
    )
    async def _consume(_body: Any, message: KafkaMessage) -> None:
        await sub.handle_batch(message.raw_message)


class _OnRevoked(ConsumerRebalanceListener):
    """Tells the subscriber which partitions it is giving up (aiokafka awaits
    the callback before the group moves on)."""

    def __init__(self, revoked: Callable[[set[int]], Awaitable[None]]) -> None:
        self._revoked = revoked

    async def on_partitions_revoked(self, revoked: Any) -> None:
        if revoked:
            await self._revoked({tp.partition for tp in revoked})

    async def on_partitions_assigned(self, assigned: Any) -> None:
        return None
