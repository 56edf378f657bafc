"""The processor with fakes: restarts from a checkpoint plus replay, redelivery,
failed publishes, and the online store's newest-wins."""

from __future__ import annotations

import random

import pytest
from prometheus_client import REGISTRY

from driftloop_feature.adapters.memory_store import InMemoryOnlineStore
from driftloop_feature.domain.model import Record
from driftloop_feature.service import processor as processor_module
from driftloop_feature.service.processor import FeatureProcessor

from ..fakes import FakeCheckpoints, FakeLog, FakePublisher
from ..helpers import record, views


def stream(n: int, seed: int = 1) -> list[Record]:
    rng = random.Random(seed)
    t = 1_700_000_000.0
    out = []
    for i in range(n):
        t += rng.uniform(-2, 3)
        out.append(record(f"r{i}", f"e{rng.randrange(5)}", t, x=rng.uniform(0, 9), y=1.0))
    return out


def processor(
    log: FakeLog, checkpoints: FakeCheckpoints, publisher: FakePublisher, compiled=None, **kw
):
    return FeatureProcessor(
        compiled or views(),
        publisher,
        InMemoryOnlineStore(),
        checkpoints,
        log,
        clock=lambda: 0.0,
        **kw,
    )


async def run(proc: FeatureProcessor, records: list[Record], start: int, batch: int = 7) -> None:
    for i in range(start, len(records)):
        await proc.handle(records[i], 0, i)
        if (i + 1) % batch == 0:
            await proc.flush()
    await proc.flush()


async def test_restart_from_a_stale_checkpoint_replays_the_gap_and_matches() -> None:
    records = stream(200)
    log, reference = FakeLog(), FakePublisher()
    log.records[0] = records
    await run(processor(log, FakeCheckpoints(), reference), records, 0)

    checkpoints, first = FakeCheckpoints(), FakePublisher()
    proc = processor(log, checkpoints, first, checkpoint_interval_s=1e9)
    await run(proc, records[:80], 0)
    await proc.checkpoint()  # state at offset 80
    await run(proc, records[:130], 80)  # handled and committed up to 130, no checkpoint
    # Crash. The new process resumes at the committed offset 130.
    second = FakePublisher()
    await run(processor(log, checkpoints, second), records, 130)
    assert log.replays[-1] == (0, 80, 130)
    by_id = {v.event_id: v.values for v in reference.vectors}
    after = first.vectors + second.vectors
    assert {v.event_id for v in after} == set(by_id)
    for v in after:
        assert v.values == by_id[v.event_id]


async def test_without_any_checkpoint_state_is_rebuilt_from_the_log_start() -> None:
    records = stream(60)
    log, reference, resumed = FakeLog(), FakePublisher(), FakePublisher()
    log.records[0] = records
    await run(processor(log, FakeCheckpoints(), reference), records, 0)
    await run(processor(log, FakeCheckpoints(), resumed), records, 40)
    assert log.replays[-1] == (0, None, 40)
    want = {v.record_id: v.values for v in reference.vectors}
    assert len(resumed.vectors) + len(resumed.rejections) == 20
    assert all(v.values == want[v.record_id] for v in resumed.vectors)
    assert {v.record_id for v in resumed.vectors} == {
        f"r{i}" for i in range(40, 60) if f"r{i}" in want
    }


async def test_redelivered_records_are_not_applied_twice() -> None:
    records = stream(30)
    log, pub = FakeLog(), FakePublisher()
    log.records[0] = records
    proc = processor(log, FakeCheckpoints(), pub)
    await run(proc, records, 0)
    await run(proc, records, 10)  # the consumer re-reads 10..29
    assert len(pub.vectors) == 30


def rebuilds(reason: str) -> float:
    value = REGISTRY.get_sample_value(
        "driftloop_state_rebuilds_total", {"state": "feature.partition", "reason": reason}
    )
    return value or 0.0


async def test_a_checkpoint_from_another_cluster_is_rebuilt_from_this_log() -> None:
    old, new = stream(50, seed=1), stream(20, seed=2)
    log, checkpoints = FakeLog(), FakeCheckpoints()
    log.records[0] = old
    proc = processor(log, checkpoints, FakePublisher())
    proc.log_id = "cluster-a"
    await run(proc, old, 0)
    await proc.checkpoint()  # next offset 50, from cluster-a
    # The broker restarts empty (a new cluster id); new records from offset 0.
    log.records[0] = new
    pub, before = FakePublisher(), rebuilds("other_cluster")
    again = processor(log, checkpoints, pub)
    again.log_id = "cluster-b"
    await run(again, new, 0)
    assert [v.record_id for v in pub.vectors] == [r.record_id for r in new]
    assert rebuilds("other_cluster") == before + 1


async def test_a_log_reset_under_a_running_process_is_noticed_and_nothing_skipped() -> None:
    old, new = stream(50, seed=1), stream(20, seed=2)
    log, pub = FakeLog(), FakePublisher()
    log.records[0] = old
    proc = processor(log, FakeCheckpoints(), pub)
    await run(proc, old, 0)
    log.records[0] = new  # same cluster, the topic recreated: offsets from 0
    before = rebuilds("beyond_log_end")
    await run(proc, new, 0)
    assert [v.record_id for v in pub.vectors[50:]] == [r.record_id for r in new]
    assert rebuilds("beyond_log_end") == before + 1
    # The rebuilt state is the new log's: what an uninterrupted run computes.
    fresh = FakePublisher()
    await run(processor(log, FakeCheckpoints(), fresh), new, 0)
    assert [v.values for v in pub.vectors[50:]] == [v.values for v in fresh.vectors]


async def test_a_failed_publish_fails_the_batch_and_the_retry_recomputes_the_same() -> None:
    records = stream(20)
    log, reference, pub = FakeLog(), FakePublisher(), FakePublisher()
    log.records[0] = records
    await run(processor(log, FakeCheckpoints(), reference), records, 0, batch=100)
    proc = processor(log, FakeCheckpoints(), pub)
    await run(proc, records[:10], 0)
    pub.fail_next = True
    for i in range(10, 15):
        await proc.handle(records[i], 0, i)
    with pytest.raises(ConnectionError):
        await proc.flush()
    await run(proc, records, 10)  # the batch is read again from its start
    want = {v.event_id: v.values for v in reference.vectors}
    assert {v.event_id for v in pub.vectors} == set(want)
    assert all(v.values == want[v.event_id] for v in pub.vectors)


async def test_online_store_keeps_the_newest_vector_by_event_time() -> None:
    store = InMemoryOnlineStore()
    log, pub = FakeLog(), FakePublisher()
    proc = FeatureProcessor(views(), pub, store, FakeCheckpoints(), log)
    await proc.handle(record("new", "e", 100.0, x=1.0), 0, 0)
    await proc.handle(record("old", "e", 97.0, x=2.0), 0, 1)  # out of order, within lateness
    await proc.flush()
    [entry] = await store.get_many("v", 1, ["e"])
    assert entry is not None and entry.vector.record_id == "new"
    assert await store.get_many("v", 1, ["nobody"]) == [None]


async def test_revoked_partitions_are_forgotten_and_not_served() -> None:
    store = InMemoryOnlineStore()
    checkpoints = FakeCheckpoints()
    proc = FeatureProcessor(
        views(), FakePublisher(), store, checkpoints, FakeLog(), clock=lambda: 0.0
    )
    await proc.handle(record("r0", "kept", 1_700_000_000.0, x=1.0, y=1.0), 0, 0)
    await proc.handle(record("r1", "moved", 1_700_000_000.0, x=2.0, y=1.0), 1, 0)
    await proc.flush()
    await proc.on_revoked({1})
    kept, moved = await store.get_many("v", 1, ["kept", "moved"])
    assert kept is not None and moved is None
    assert await checkpoints.load(1) is not None  # saved for its next owner
    assert 1 not in proc._states and 0 in proc._states


def evicted(reason: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "driftloop_feature_entities_evicted_total", {"view": "v", "reason": reason}
        )
        or 0.0
    )


async def test_with_evictions_every_record_still_gets_its_vector_across_a_restart() -> None:
    bounded = views(ttl=20.0, max_entities=8)
    rng = random.Random(3)
    records = [
        record(f"r{i}", f"e{rng.randrange(40)}", 1000.0 + i * 0.2 + i // 50 * 30, x=i, y=1.0)
        for i in range(400)  # a 30 s quiet spell every 50 records expires every entity
    ]
    log, reference = FakeLog(), FakePublisher()
    log.records[0] = records
    before = evicted("max_entities"), evicted("ttl")
    await run(processor(log, FakeCheckpoints(bounded), reference, bounded), records, 0)
    assert len(reference.vectors) == len(records)
    assert evicted("max_entities") > before[0] and evicted("ttl") > before[1]

    checkpoints, first = FakeCheckpoints(bounded), FakePublisher()
    proc = processor(log, checkpoints, first, bounded, checkpoint_interval_s=1e9)
    for start, stop in ((0, 100), (100, 170), (170, 260)):  # incremental checkpoints
        await run(proc, records[:stop], start)
        await proc.checkpoint()
    await run(proc, records[:300], 260)  # committed up to 300, checkpointed at 260
    second = FakePublisher()
    await run(processor(log, checkpoints, second, bounded), records, 300)
    want = {v.event_id: v.values for v in reference.vectors}
    got = first.vectors + second.vectors
    assert {v.event_id for v in got} == set(want)
    assert all(v.values == want[v.event_id] for v in got)


class RecordingLog:
    """Stands in for the module's structlog logger: keeps every line."""

    def __init__(self, lines: list[dict]) -> None:
        self.lines = lines

    def __getattr__(self, level: str):
        return lambda event, **kw: self.lines.append({"event": event, "level": level, **kw})


async def test_evictions_are_logged_as_one_summary_at_most_once_a_minute(monkeypatch) -> None:
    now = [0.0]
    proc = FeatureProcessor(
        views(max_entities=2),
        FakePublisher(),
        InMemoryOnlineStore(),
        FakeCheckpoints(),
        FakeLog(),
        clock=lambda: now[0],
    )
    # The log lines themselves, whatever logging configuration an earlier
    # test left (a level filter there drops info lines before any capture).
    logs: list[dict] = []
    monkeypatch.setattr(processor_module, "log", RecordingLog(logs))
    for i in range(30):  # 28 evictions, over 90 s of the clock
        now[0] = i * 3.0
        await proc.handle(record(f"r{i}", f"e{i}", 100.0 + i), 0, i)
        await proc.flush()
    summaries = [e for e in logs if e["event"] == "feature.entities_evicted"]
    assert [s["evicted"] for s in summaries] == [{"v/max_entities": 19}]
