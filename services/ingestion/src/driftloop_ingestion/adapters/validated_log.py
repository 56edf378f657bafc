"""Reads back the newest records on ``driftloop.records.validated`` so that a
restarted ingestion process rebuilds its dedupe window from the log instead
of starting blank: a raw batch read again after a crash (its offsets were not
committed, but its records were published) then dedupes, and so does a
caller's retry of a gRPC call that did reach the broker.

The window is rebuilt from whichever log the service reads now, so it can
never describe another (reset) log.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from aiokafka import AIOKafkaConsumer, TopicPartition

from driftloop.ingestion.v1.events_pb2 import RecordValidated
from driftloop.platform import topics
from driftloop.platform.bus import aiokafka_options
from driftloop.platform.log_identity import end_offsets
from driftloop.platform.settings import KafkaSettings


async def recent_records(
    settings: KafkaSettings, window_s: float, max_ids: int
) -> list[tuple[str, str, float]]:
    """(stream, record id, published at) of the records published in the last
    ``window_s`` seconds, at most ``max_ids`` per partition, oldest first."""
    topic = topics.RECORDS_VALIDATED.name
    consumer = AIOKafkaConsumer(
        **aiokafka_options(settings), group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        await consumer.topics()  # fetch the partitions
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not tps:
            return []
        starts = await consumer.beginning_offsets(tps)
        ends = await end_offsets(consumer, tps)
        todo = {tp: ends[tp] for tp in tps if ends[tp] > starts[tp]}
        if not todo:
            return []
        consumer.assign(list(todo))
        for tp in todo:
            consumer.seek(tp, max(starts[tp], ends[tp] - max_ids))
        since_ms = (time.time() - window_s) * 1000
        out: list[tuple[str, str, float]] = []
        while todo:
            batches = await consumer.getmany(*todo, timeout_ms=500, max_records=10_000)
            for tp, records in batches.items():
                out.extend(_ids(records, todo[tp], since_ms))
                if await consumer.position(tp) >= todo[tp]:
                    del todo[tp]
                    consumer.pause(tp)
        out.sort(key=lambda item: item[2])
        return out
    finally:
        await consumer.stop()


def _ids(records: list, end: int, since_ms: float) -> Iterator[tuple[str, str, float]]:
    for r in records:
        if r.offset >= end or r.timestamp < since_ms:
            continue
        event = RecordValidated.FromString(r.value or b"")
        yield event.stream, event.meta.event_id, r.timestamp / 1000
