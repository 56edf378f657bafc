"""Kafka entrypoint: validated records in, handed to the processor."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from driftloop.ingestion.v1.events_pb2 import RecordValidated
from driftloop.platform import topics
from driftloop.platform.bus import EventBus, subscribe
from driftloop.platform.envelope import EventContext
from driftloop_feature.codec import converters
from driftloop_feature.service.processor import FeatureProcessor


def register(
    broker: KafkaBroker, bus: EventBus, processor: FeatureProcessor, *, group: str, batch: int
) -> None:
    """Subscribe the processor to ``driftloop.records.validated``."""

    async def on_record_validated(event: RecordValidated, ctx: EventContext) -> None:
        record = converters.record_from_proto(event)
        await processor.handle(record, ctx.partition, ctx.offset)

    subscribe(
        broker,
        bus,
        topics.RECORDS_VALIDATED.name,
        RecordValidated,
        on_record_validated,
        group=group,
        max_records=batch,
        on_batch=processor.flush,
        on_revoked=processor.on_revoked,
    )
