"""The fast path for services that publish thousands of events per batch.

Ingestion (records), feature (vectors) and serving (predictions) publish many
events at once and wait for all of them before they commit or answer. The
bus's per-message path (faststream's publish, one future per message) costs
several times more CPU per event there, so these services build Kafka record
batches themselves: one aiokafka ``BatchBuilder`` per topic partition, the
same keys and partitions as any Kafka client (murmur2 of the key), the same
acks and idempotence (aiokafka stamps the producer id and sequence numbers on
these batches as on its own when it drains them), and headers that the caller
builds as ``envelope.headers_for`` does.

    publisher = BatchPublisher(settings.kafka, "driftloop-ingestion")
    await publisher.start()
    out = publisher.batches()
    await out.add(topic, key, value, headers, type_name)
    ...
    await out.send()      # returns once the broker acknowledged every event
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2

from driftloop.platform.bus import EVENTS_PUBLISHED, aiokafka_options, producer_guarantees
from driftloop.platform.settings import KafkaSettings

Headers = list[tuple[str, bytes]]

_KEY_CACHE_LIMIT = 200_000


class BatchPublisher:
    """Owns one producer; hands out ``RecordBatches`` to fill and send.

    ``linger_ms`` 0 suits callers that send large rounds and wait for them
    (ingestion, feature); a few milliseconds let frequent small rounds share
    produce requests (serving: measured ~100 µs less CPU per request at 5 ms).
    """

    def __init__(
        self,
        settings: KafkaSettings,
        client_id: str,
        *,
        max_batch_bytes: int = 512 * 1024,
        linger_ms: int = 0,
    ) -> None:
        self._settings = settings
        self._client_id = client_id
        self._max_batch_bytes = max_batch_bytes
        self._linger_ms = linger_ms
        self._producer: AIOKafkaProducer | None = None
        self._partitions: dict[str, list[int]] = {}
        self._hashes: dict[bytes, int] = {}

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            **aiokafka_options(self._settings),
            client_id=self._client_id,
            **producer_guarantees(self._settings, self._client_id),
            linger_ms=self._linger_ms,
            max_batch_size=self._max_batch_bytes,
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    def batches(self) -> RecordBatches:
        if self._producer is None:
            raise RuntimeError("the publisher is not started")
        return RecordBatches(self, self._producer)

    async def partition_of(self, topic: str, key: bytes) -> int:
        parts = self._partitions.get(topic)
        if parts is None:
            assert self._producer is not None
            parts = self._partitions[topic] = sorted(await self._producer.partitions_for(topic))
        # Keys repeat (entity ids, model names), and murmur2 in pure Python is
        # worth caching.
        h = self._hashes.get(key)
        if h is None:
            if len(self._hashes) >= _KEY_CACHE_LIMIT:
                self._hashes.clear()
            h = self._hashes[key] = murmur2(key) & 0x7FFFFFFF
        return parts[h % len(parts)]


class RecordBatches:
    """One round of events: filled with ``add``, sent and acknowledged by ``send``."""

    def __init__(self, publisher: BatchPublisher, producer: AIOKafkaProducer) -> None:
        self._publisher = publisher
        self._producer = producer
        self._open: dict[tuple[str, int], Any] = {}
        self._sent: list[asyncio.Future[Any]] = []
        self._counts: dict[tuple[str, str], int] = {}

    async def add(
        self, topic: str, key: bytes, value: bytes, headers: Headers, type_name: str
    ) -> None:
        partition = await self._publisher.partition_of(topic, key)
        batch = self._open.get((topic, partition))
        if batch is None:
            batch = self._open[topic, partition] = self._producer.create_batch()
        if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
            # Full: send it and start the next one.
            self._sent.append(await self._producer.send_batch(batch, topic, partition=partition))
            batch = self._open[topic, partition] = self._producer.create_batch()
            if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                raise ValueError(f"an event of {len(value)} bytes exceeds the batch size")
        self._counts[topic, type_name] = self._counts.get((topic, type_name), 0) + 1

    async def send(self) -> None:
        """Send what is left and wait until the broker acknowledged every event."""
        for (topic, partition), batch in self._open.items():
            self._sent.append(await self._producer.send_batch(batch, topic, partition=partition))
        self._open.clear()
        await asyncio.gather(*self._sent)
        self._sent.clear()
        for (topic, name), n in self._counts.items():
            EVENTS_PUBLISHED.labels(topic, name).inc(n)
        self._counts.clear()
