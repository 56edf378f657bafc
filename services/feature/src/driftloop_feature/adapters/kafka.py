"""Kafka adapters: the publisher of vectors and dead-letters (through the
event bus, without waiting), and the replayer that re-reads a partition of the
records topic to rebuild state."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable

from aiokafka import AIOKafkaConsumer, TopicPartition
from google.protobuf.message import DecodeError

from driftloop.ingestion.v1.events_pb2 import RecordValidated
from driftloop.platform.bus import EventBus, aiokafka_options
from driftloop.platform.settings import KafkaSettings
from driftloop_feature.domain.model import Record, Rejection, Vector
from driftloop_feature.entrypoints import converters


class BusPublisher:
    """Publishes vectors keyed by entity id and dead-letters keyed by stream."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus

    async def vector(self, vector: Vector) -> Awaitable[object]:
        event = converters.vector_to_proto(vector)
        return await self._bus.publish_nowait(event, key=vector.entity_id)

    async def rejection(self, rejection: Rejection) -> Awaitable[object]:
        event = converters.rejection_to_proto(rejection)
        return await self._bus.publish_nowait(event, key=rejection.record.stream)


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
