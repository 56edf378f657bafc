"""Publishes intake results as driftloop events, in Kafka record batches.

Intake publishes thousands of events per batch and waits for all of them, so
it takes the platform's batch fast path (``driftloop.platform.batches``) and
writes the envelope itself: the protobuf payload and the CloudEvents headers
as ``envelope.headers_for`` writes them, built once per batch where they are
shared. It has its own producer, started before the consumers and stopped
after them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

from google.protobuf.timestamp_pb2 import Timestamp

from driftloop.platform import topics
from driftloop.platform.batches import BatchPublisher
from driftloop.platform.envelope import CONTENT_TYPE, SPEC_VERSION
from driftloop.platform.settings import KafkaSettings
from driftloop_ingestion.codec import converters
from driftloop_ingestion.codec.wire import FieldsEncoder
from driftloop_ingestion.service.ports import Outgoing


class KafkaPublisher:
    """Publishes every item and returns once the broker acknowledged all."""

    def __init__(self, settings: KafkaSettings, source: str) -> None:
        self.source = source
        self._kafka = BatchPublisher(settings, f"driftloop-{source}-publisher")
        self._fields = FieldsEncoder()
        self._source_header = f"driftloop/{source}".encode()

    async def start(self) -> None:
        await self._kafka.start()

    async def stop(self) -> None:
        await self._kafka.stop()

    async def publish(self, items: Sequence[Outgoing]) -> None:
        if not items:
            return
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
        out = self._kafka.batches()
        for name, event_id, causation, correlation, key, value in converters.to_wire(
            items, self.source, now, self._fields
        ):
            headers = [
                ("ce_id", event_id.encode()),
                ("ce_type", name.encode()),
                *common,
                ("ce_correlationid", correlation.encode()),
            ]
            if causation:
                headers.append(("ce_causationid", causation.encode()))
            await out.add(topics.TOPIC_OF[name], key.encode(), value, headers, name)
        await out.send()
