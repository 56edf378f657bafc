"""Kafka adapters: the publisher of vectors and dead-letters (in record
batches, acknowledged before the consumer commits), and the replayer that
re-reads a partition of the records topic to rebuild state."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiokafka import AIOKafkaConsumer, TopicPartition
from google.protobuf.message import DecodeError, Message

from driftloop.ingestion.v1.events_pb2 import RecordValidated
from driftloop.platform import topics
from driftloop.platform.batches import BatchPublisher
from driftloop.platform.bus import aiokafka_options
from driftloop.platform.envelope import headers_for
from driftloop.platform.log_identity import end_offset
from driftloop.platform.settings import KafkaSettings
from driftloop_feature.codec import converters
from driftloop_feature.domain.model import Record, Rejection, Vector


class KafkaBatchPublisher:
    """Publishes vectors (keyed by entity id) and dead-letters (keyed by stream)
    through the platform's batch fast path (``driftloop.platform.batches``):
    a batch of records yields thousands of events, all acknowledged before the
    consumer commits. It has its own producer, started before the consumer
    and stopped after it.
    """

    def __init__(self, settings: KafkaSettings, source: str) -> None:
        self._kafka = BatchPublisher(settings, f"driftloop-{source}-publisher")
        self._items: list[tuple[str, str, Message]] = []

    async def start(self) -> None:
        await self._kafka.start()

    async def stop(self) -> None:
        await self._kafka.stop()

    def vector(self, vector: Vector) -> None:
        event = converters.vector_to_proto(vector)
        self._items.append((topics.FEATURES.name, vector.entity_id, event))

    def rejection(self, rejection: Rejection) -> None:
        event = converters.rejection_to_proto(rejection)
        self._items.append((topics.RECORDS_DEADLETTER.name, rejection.record.stream, event))

    async def flush(self) -> None:
        items, self._items = self._items, []
        if not items:
            return
        out = self._kafka.batches()
        for topic, key, event in items:
            headers = [(k, v.encode()) for k, v in headers_for(event).items()]
            await out.add(
                topic, key.encode(), event.SerializeToString(), headers, event.DESCRIPTOR.full_name
            )
        await out.send()


class KafkaReplayer:
    """Reads a stretch of one partition with a group-less consumer."""

    def __init__(self, settings: KafkaSettings, topic: str) -> None:
        self._settings = settings
        self._topic = topic

    async def end_offset(self, partition: int) -> int:
        consumer = AIOKafkaConsumer(**aiokafka_options(self._settings), group_id=None)
        await consumer.start()
        try:
            return await end_offset(consumer, TopicPartition(self._topic, partition))
        finally:
            await consumer.stop()

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
