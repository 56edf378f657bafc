"""Kafka adapters: the publisher of vectors and dead-letters (in record
batches, acknowledged before the consumer commits), and the replayer that
re-reads a partition of the records topic to rebuild state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import murmur2
from google.protobuf.message import DecodeError, Message

from driftloop.ingestion.v1.events_pb2 import RecordValidated
from driftloop.platform import topics
from driftloop.platform.bus import EVENTS_PUBLISHED, aiokafka_options
from driftloop.platform.envelope import headers_for
from driftloop.platform.settings import KafkaSettings
from driftloop_feature.domain.model import Record, Rejection, Vector
from driftloop_feature.entrypoints import converters


class KafkaBatchPublisher:
    """Publishes vectors (keyed by entity id) and dead-letters (keyed by stream)
    in Kafka record batches.

    A batch of records yields thousands of events that are all awaited before
    the commit, so this skips the bus's per-message path (faststream's publish,
    one future per event) and appends them to one aiokafka batch per topic
    partition: the same envelope (``envelope.headers_for``), keys and
    partitions (Kafka's murmur2 of the key), and acks; several times less CPU
    per event. It has its own producer, started before the consumer and
    stopped after it.
    """

    def __init__(
        self, settings: KafkaSettings, source: str, *, max_batch_bytes: int = 512 * 1024
    ) -> None:
        self._settings = settings
        self._source = source
        self._max_batch_bytes = max_batch_bytes
        self._producer: AIOKafkaProducer | None = None
        self._items: list[tuple[str, str, Message]] = []
        self._partitions: dict[str, list[int]] = {}
        self._hashes: dict[bytes, int] = {}

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            **aiokafka_options(self._settings),
            client_id=f"driftloop-{self._source}-publisher",
            acks="all" if self._settings.idempotence else 1,
            enable_idempotence=self._settings.idempotence,
            linger_ms=0,  # batches are built here and sent whole
            max_batch_size=self._max_batch_bytes,
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    def vector(self, vector: Vector) -> None:
        event = converters.vector_to_proto(vector)
        self._items.append((topics.FEATURES.name, vector.entity_id, event))

    def rejection(self, rejection: Rejection) -> None:
        event = converters.rejection_to_proto(rejection)
        self._items.append((topics.RECORDS_DEADLETTER.name, rejection.record.stream, event))

    async def flush(self) -> None:
        items, self._items = self._items, []
        producer = self._producer
        if not items:
            return
        if producer is None:
            raise RuntimeError("the publisher is not started")
        batches: dict[tuple[str, int], Any] = {}
        futures = []
        counts: dict[tuple[str, str], int] = {}
        for topic, key, event in items:
            parts = self._partitions.get(topic)
            if parts is None:
                parts = self._partitions[topic] = sorted(await producer.partitions_for(topic))
            kb = key.encode()
            partition = parts[self._hash(kb) % len(parts)]
            value = event.SerializeToString()
            headers = [(k, v.encode()) for k, v in headers_for(event).items()]
            batch = batches.get((topic, partition))
            if batch is None:
                batch = batches[topic, partition] = producer.create_batch()
            if batch.append(key=kb, value=value, timestamp=None, headers=headers) is None:
                futures.append(await producer.send_batch(batch, topic, partition=partition))
                batch = batches[topic, partition] = producer.create_batch()
                if batch.append(key=kb, value=value, timestamp=None, headers=headers) is None:
                    raise ValueError(f"event of {len(value)} bytes exceeds the batch size")
            name = event.DESCRIPTOR.full_name
            counts[topic, name] = counts.get((topic, name), 0) + 1
        for (topic, partition), batch in batches.items():
            futures.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*futures)
        for (topic, name), n in counts.items():
            EVENTS_PUBLISHED.labels(topic, name).inc(n)

    def _hash(self, key: bytes) -> int:
        # Entity ids repeat, and murmur2 in pure Python is worth caching.
        h = self._hashes.get(key)
        if h is None:
            if len(self._hashes) >= 200_000:
                self._hashes.clear()
            h = self._hashes[key] = murmur2(key) & 0x7FFFFFFF
        return h


class KafkaReplayer:
    """Reads a stretch of one partition with a group-less consumer."""

    def __init__(self, settings: KafkaSettings, topic: str) -> None:
        self._settings = settings
        self._topic = topic

    async def replay(
        self, partition: int, start: int | None, end: int
    ) -> AsyncIterator[tuple[int, Record | None]]:
        consumer = AIOKafkaConsumer(
            **aiokafka_options(self._settings), enable_auto_commit=False, group_id=None
        )
        await consumer.start()
        try:
            tp = TopicPartition(self._topic, partition)
            consumer.assign([tp])
            if start is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, start)
            while await consumer.position(tp) < end:
                batch = await consumer.getmany(tp, timeout_ms=500, max_records=5000)
                for r in batch.get(tp, ()):
                    if r.offset >= end:
                        return
                    yield r.offset, _decode(r.value)
        finally:
            await consumer.stop()


def _decode(value: bytes | None) -> Record | None:
    try:
        return converters.record_from_proto(RecordValidated.FromString(value or b""))
    except DecodeError:
        return None
