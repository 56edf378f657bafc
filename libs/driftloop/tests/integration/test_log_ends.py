"""A partition's end, found on a topic that is written to all the time."""

import asyncio
import contextlib

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from driftloop.platform import topics
from driftloop.platform.bus import aiokafka_options
from driftloop.platform.log_identity import end_offsets
from driftloop.platform.testing import end_offsets as ends_now

pytestmark = pytest.mark.integration

TOPIC = topics.RECORDS_RAW.name


async def test_the_end_of_a_topic_that_never_falls_quiet_is_found(kafka):
    # Seen: a restarted feature service waited for a quiet second on a topic
    # the demo wrote 120 records/s to, and applied nothing for five minutes.
    producer = AIOKafkaProducer(**aiokafka_options(kafka), linger_ms=0)
    await producer.start()
    sent = 0

    async def write_all_the_time() -> None:
        nonlocal sent
        while True:
            await producer.send_and_wait(TOPIC, b"x", partition=sent % 3)
            sent += 1
            await asyncio.sleep(0.01)

    writer = asyncio.create_task(write_all_the_time())
    consumer = AIOKafkaConsumer(**aiokafka_options(kafka), enable_auto_commit=False)
    await consumer.start()
    try:
        while sent < 30:
            await asyncio.sleep(0.05)
        before = await ends_now(kafka, TOPIC)
        tps = [TopicPartition(TOPIC, p) for p in range(3)]
        # Generous: only a read that waits for the writer to stop never returns.
        found = await asyncio.wait_for(end_offsets(consumer, tps), timeout=60)
        assert writer.done() is False, "the writer stopped: the topic fell quiet"
        assert all(found[tp] >= before.get(tp, 0) for tp in tps), (found, before)
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        await consumer.stop()
        await producer.stop()
