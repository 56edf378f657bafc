"""Publishes intake results as driftloop events, in Kafka record batches.

Intake publishes thousands of events per batch and waits for all of them, so
this adapter skips the per-message path of the event bus (faststream's
publish, one future per message) and appends events straight to one aiokafka
``BatchBuilder`` per topic partition: the same envelope (protobuf payload,
CloudEvents headers as ``envelope.headers_for`` writes them), the same keys
and partitions (Kafka's murmur2 of the key), the same acks; several times
less CPU per event. It has its own producer, started before the consumers
and stopped after them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2
from google.protobuf.timestamp_pb2 import Timestamp

from driftloop.platform import topics
from driftloop.platform.bus import EVENTS_PUBLISHED, aiokafka_options
from driftloop.platform.envelope import CONTENT_TYPE, SPEC_VERSION
from driftloop.platform.settings import KafkaSettings
from driftloop_ingestion.entrypoints import converters
from driftloop_ingestion.entrypoints.wire import FieldsEncoder
from driftloop_ingestion.service.ports import Outgoing

_KEY_CACHE_LIMIT = 200_000


class KafkaPublisher:
    """Publishes every item and returns once the broker acknowledged all."""

    def __init__(
        self, settings: KafkaSettings, source: str, *, max_batch_bytes: int = 512 * 1024
    ) -> None:
        self.settings = settings
        self.source = source
        self.max_batch_bytes = max_batch_bytes
        self._producer: AIOKafkaProducer | None = None
        self._hashes: dict[bytes, int] = {}
        self._fields = FieldsEncoder()
        self._source_header = f"driftloop/{source}".encode()

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            **aiokafka_options(self.settings),
            client_id=f"driftloop-{self.source}-publisher",
            acks="all" if self.settings.idempotence else 1,
            enable_idempotence=self.settings.idempotence,
            # Batches are built here and sent whole: lingering would only add latency.
            linger_ms=0,
            max_batch_size=self.max_batch_bytes,
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    def _hash(self, key: bytes) -> int:
        # Entity ids repeat; Kafka's murmur2 in pure Python is worth caching.
        h = self._hashes.get(key)
        if h is None:
            if len(self._hashes) >= _KEY_CACHE_LIMIT:
                self._hashes.clear()
            h = self._hashes[key] = murmur2(key) & 0x7FFFFFFF
        return h

    async def publish(self, items: Sequence[Outgoing]) -> None:
        if not items:
            return
        producer = self._producer
        if producer is None:
            raise RuntimeError("the publisher is not started")
        now = Timestamp()
        now.GetCurrentTime()
        common = [
            ("ce_specversion", SPEC_VERSION.encode()),
            ("ce_source", self._source_header),
            (
                "ce_time",
                now.ToDatetime(tzinfo=UTC).isoformat().replace("+00:00", "Z").encode(),
            ),
            ("content-type", CONTENT_TYPE.encode()),
        ]
        partitions: dict[str, list[int]] = {}
        batches: dict[tuple[str, int], Any] = {}
        futures = []
        counts: dict[tuple[str, str], int] = {}
        for name, event_id, causation, correlation, key, value in converters.to_wire(
            items, self.source, now, self._fields
        ):
            topic = topics.TOPIC_OF[name]
            parts = partitions.get(topic)
            if parts is None:
                parts = partitions[topic] = sorted(await producer.partitions_for(topic))
            kb = key.encode()
            partition = parts[self._hash(kb) % len(parts)]
            headers = [
                ("ce_id", event_id.encode()),
                ("ce_type", name.encode()),
                *common,
                ("ce_correlationid", correlation.encode()),
            ]
            if causation:
                headers.append(("ce_causationid", causation.encode()))
            batch = batches.get((topic, partition))
            if batch is None:
                batch = batches[topic, partition] = producer.create_batch()
            if batch.append(key=kb, value=value, timestamp=None, headers=headers) is None:
                futures.append(await producer.send_batch(batch, topic, partition=partition))
                batch = batches[topic, partition] = producer.create_batch()
                if batch.append(key=kb, value=value, timestamp=None, headers=headers) is None:
                    raise ValueError(f"event of {len(value)} bytes exceeds the batch size")
            counts[topic, name] = counts.get((topic, name), 0) + 1
        for (topic, partition), batch in batches.items():
            futures.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*futures)
        for (topic, name), n in counts.items():
            EVENTS_PUBLISHED.labels(topic, name).inc(n)
