"""Records without an id, a kill -9 of ingestion mid-stream, and the raw
batches read again by the next process: each raw record is validated once,
under an id derived from where it was read."""

from __future__ import annotations

import json

import pytest

from driftloop.ingestion.v1 import events_pb2 as ev
from driftloop.platform import topics
from driftloop.platform.testing import end_offsets, produce_raw, read_from, unique, wait_for

from ..conftest import good_record, start_ingestion, write_spec
from .test_raw_topic import scrape

pytestmark = pytest.mark.integration

N = 3000


async def test_raw_batches_read_again_after_kill_9_yield_no_duplicate(kafka, tmp_path):
    stream = unique("redo").replace("-", "_")
    # Two streams, so none is the default one for other tests' records.
    spec = write_spec(tmp_path / "spec.yaml", stream, f"{stream}_other")
    start = await end_offsets(kafka, topics.RECORDS_VALIDATED.name)
    raw_start = await end_offsets(kafka, topics.RECORDS_RAW.name)
    items = [
        (f"u{i % 50}".encode(), json.dumps({**good_record(i), "stream": stream}).encode())
        for i in range(N)
    ]

    def mine(record) -> bool:
        return ev.RecordValidated.FromString(record.value).stream == stream

    async def validated(count: int | None = None, timeout_s: float = 5.0) -> list:
        got = await read_from(
            kafka,
            topics.RECORDS_VALIDATED.name,
            start,
            count=count,
            predicate=mine,
            timeout_s=timeout_s,
            idle_s=3.0,
        )
        return [ev.RecordValidated.FromString(r.value) for r in got]

    first, _ = start_ingestion(kafka, tmp_path / "a", spec, DRIFTLOOP_RAW_BATCH_RECORDS="100")
    second = None
    try:
        await produce_raw(kafka, topics.RECORDS_RAW.name, items)

        async def some_done() -> bool:
            return len(await validated(timeout_s=1.0)) >= N // 10

        await wait_for(some_done, timeout_s=90, interval_s=0.2)
        first.kill()
        before = await validated(timeout_s=2.0)
        assert 0 < len(before), "nothing was validated before the kill"
        # A new consumer group reads every raw batch again: the worst case of
        # batches whose offsets were not committed before the crash.
        second, _ = start_ingestion(kafka, tmp_path / "b", spec)
        after = await validated(count=N, timeout_s=120)
        metrics = scrape(second.metrics_url)
    finally:
        if second is not None and second.proc.poll() is None:
            assert second.terminate() == 0, second.tail()

    ids = [r.meta.event_id for r in after]
    assert len(ids) == N, f"{len(ids) - len(set(ids))} duplicates, {N - len(set(ids))} missing"
    assert len(set(ids)) == N
    # Each raw record was validated once, under the id derived from its position.
    positions = {(r.origin.kafka.partition, r.origin.kafka.offset) for r in after}
    assert len(positions) == N
    assert all(r.origin.kafka.offset >= raw_start[_tp(r)] for r in after)
    assert {r.meta.event_id for r in before} <= set(ids)
    # The second process read the records the first had validated, and
    # recognised them from the dedupe window it rebuilt from the log.
    dupes = f'driftloop_ingestion_records_total{{outcome="duplicate",reason="",stream="{stream}"}}'
    counted = [line for line in metrics.splitlines() if line.startswith(dupes)]
    assert counted and float(counted[0].split()[-1]) >= len(before), counted


def _tp(record: ev.RecordValidated):
    from aiokafka import TopicPartition

    return TopicPartition(topics.RECORDS_RAW.name, record.origin.kafka.partition)
