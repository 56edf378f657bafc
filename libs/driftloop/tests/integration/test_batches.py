"""The batch fast path against the real embedded broker: every event
acknowledged on ``send``, in the partition any Kafka client picks for its key,
in order, with the headers given."""

import pytest
from aiokafka.partitioner import DefaultPartitioner

from driftloop.common.v1.common_pb2 import Value
from driftloop.ingestion.v1.events_pb2 import LabelReceived
from driftloop.platform import topics
from driftloop.platform.batches import BatchPublisher
from driftloop.platform.envelope import headers_for, new_meta
from driftloop.platform.testing import end_offsets, read_from, unique

pytestmark = pytest.mark.integration


async def test_every_event_lands_in_its_keys_partition_in_order(kafka):
    topic = topics.LABELS.name
    start = await end_offsets(kafka, topic)
    # Small batches, so that full batches are sent while adding, too.
    publisher = BatchPublisher(kafka, "batches-test", max_batch_bytes=4096)
    await publisher.start()
    run = unique("b")
    sent = []
    try:
        out = publisher.batches()
        for i in range(500):
            event = LabelReceived(
                meta=new_meta("test", caused_by=f"{run}-{i}"),
                stream=run,
                record_id=f"{run}-{i}",
                label=Value(int_value=i),
            )
            key = f"{run}-entity-{i % 7}".encode()
            headers = [(k, v.encode()) for k, v in headers_for(event).items()]
            await out.add(topic, key, event.SerializeToString(), headers, "LabelReceived")
            sent.append((key, event))
        await out.send()
    finally:
        await publisher.stop()

    got = await read_from(
        kafka,
        topic,
        start,
        count=len(sent),
        predicate=lambda r: LabelReceived.FromString(r.value).stream == run,
    )
    assert len(got) == len(sent)
    partitions = sorted(start_tp.partition for start_tp in start)
    pick = DefaultPartitioner()
    for r in got:
        assert r.partition == pick(r.key, partitions, partitions)
        assert dict(r.headers)["ce_type"] == b"driftloop.ingestion.v1.LabelReceived"
    # Within a key (one partition), the order they were added in.
    for key in {k for k, _ in sent}:
        ids = [LabelReceived.FromString(r.value).record_id for r in got if r.key == key]
        assert ids == [e.record_id for k, e in sent if k == key]
