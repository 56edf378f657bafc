"""Which log local state was read from.

A checkpoint, offset or id derived from an offset is only meaningful in the
log it came from. Kafka names a cluster with its cluster id; the embedded
broker (Tansu, which answers ``tansu_cluster`` unless told otherwise) is
started with a fresh id each time, so a restarted embedded broker, whose log
starts empty, is a different log. aiokafka's metadata (up to v5) carries no
topic ids, so a topic deleted and recreated on the same cluster is noticed by
its offsets instead: state that claims offsets beyond a partition's end
cannot have come from it.

State found to come from another log is dropped and rebuilt from the log;
each such rebuild is logged and counted in ``driftloop_state_rebuilds_total``
(:mod:`driftloop.platform.rebuilds`, which use cases import without Kafka).
"""

from __future__ import annotations

import time
import uuid

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from driftloop.platform.kafka_client import aiokafka_options
from driftloop.platform.settings import KafkaSettings


def new_embedded_cluster_id() -> str:
    """A fresh cluster id for an embedded broker start (its log starts empty)."""
    return f"driftloop-{uuid.uuid4().hex[:16]}"


async def cluster_id(settings: KafkaSettings) -> str:
    """The id of the Kafka cluster the settings reach."""
    admin = AIOKafkaAdminClient(**aiokafka_options(settings), request_timeout_ms=10000)
    await admin.start()
    try:
        return str((await admin.describe_cluster())["cluster_id"] or "")
    finally:
        await admin.close()


async def partitions_of(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    """Every partition of ``topic``. A consumer's metadata holds the topics it
    tracks: Tansu answers its first request with every topic, Apache Kafka
    with none, so ask again for all when ``topic`` is missing."""
    found = consumer.partitions_for_topic(topic)
    if not found:
        await consumer._client.force_metadata_update()
        found = consumer.partitions_for_topic(topic)
    return [TopicPartition(topic, p) for p in sorted(found or ())]


#: The longest :func:`end_offsets` reads on past the reported ends.
READ_ON_S = 3.0


async def end_offset(consumer: AIOKafkaConsumer, tp: TopicPartition) -> int:
    """The offset the next record of ``tp`` will get (see :func:`end_offsets`)."""
    return (await end_offsets(consumer, [tp]))[tp]


async def end_offsets(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """The offset the next record of each partition will get.

    Tansu reports a partition's end (ListOffsets "latest") as the first offset
    of its last record batch, so read on from the reported ends until nothing
    more comes — for all partitions at once: one quiet second, not one per
    partition — or for at most ``READ_ON_S``: a topic being written to all
    the time never falls quiet, and an end a little later than the call is as
    good as the end at the call. Leaves ``tps`` assigned to ``consumer`` (a
    group-less one)."""
    ends = {tp: int(end) for tp, end in (await consumer.end_offsets(tps)).items()}
    consumer.assign(list(tps))
    for tp in tps:
        consumer.seek(tp, ends[tp])
    deadline = time.monotonic() + READ_ON_S
    while time.monotonic() < deadline:
        batches = await consumer.getmany(*tps, timeout_ms=1000, max_records=10_000)
        if not any(batches.values()):
            break
        for tp, records in batches.items():
            if records:
                ends[tp] = records[-1].offset + 1
    return ends
