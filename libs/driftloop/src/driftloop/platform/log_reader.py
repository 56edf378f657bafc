"""Reads a topic back at start, from a chosen offset of each partition to the
end it has when the read begins: the state a service rebuilds from the log
(ingestion's dedupe window, serving's rollouts in force)."""

from __future__ import annotations

from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord

from driftloop.platform.kafka_client import aiokafka_options
from driftloop.platform.log_identity import end_offsets, partitions_of
from driftloop.platform.settings import KafkaSettings


async def read_back(
    settings: KafkaSettings, topic: str, first: Callable[[int, int], int]
) -> list[ConsumerRecord]:
    """The records of ``topic`` from offset ``first(beginning, end)`` of each
    partition up to its end now, each partition in order (no consumer group,
    nothing committed)."""
    consumer = AIOKafkaConsumer(
        **aiokafka_options(settings), group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tps = await partitions_of(consumer, topic)
        if not tps:
            return []
        starts = await consumer.beginning_offsets(tps)
        ends = await end_offsets(consumer, tps)
        todo = {tp: ends[tp] for tp in tps if ends[tp] > starts[tp]}
        if not todo:
            return []
        consumer.assign(list(todo))
        for tp in todo:
            consumer.seek(tp, max(starts[tp], first(starts[tp], ends[tp])))
        out: list[ConsumerRecord] = []
        while todo:
            batches = await consumer.getmany(*todo, timeout_ms=500, max_records=10_000)
            for tp, records in batches.items():
                out.extend(r for r in records if r.offset < todo[tp])
                if await consumer.position(tp) >= todo[tp]:
                    del todo[tp]
                    consumer.pause(tp)
        return out
    finally:
        await consumer.stop()
