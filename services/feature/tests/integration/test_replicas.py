"""Two replicas in one consumer group split the partitions and together
produce every vector once (after dedupe); each serves the entities of the
partitions it owns over gRPC, from memory or from Redis."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftloop.feature.v1 import feature_service_pb2 as pb
from driftloop.feature.v1 import feature_service_pb2_grpc as pb_grpc
from driftloop.platform import topics
from driftloop.platform.grpc_client import channel
from driftloop.platform.testing import end_offsets, stable_members, unique, wait_for

from .support import make_records, produce, read_vectors, start_feature, write_spec

pytestmark = pytest.mark.integration


async def lookup(address: str, view: str, ids: list[str]) -> pb.GetOnlineFeaturesResponse:
    async with channel(address) as ch:
        return await pb_grpc.FeatureServiceStub(ch).GetOnlineFeatures(
            pb.GetOnlineFeaturesRequest(view=view, entity_ids=ids)
        )


async def test_two_replicas_split_partitions_and_produce_every_vector(
    kafka, tmp_path: Path
) -> None:
    stream = unique("s").replace("-", "_")
    group = unique("g")
    spec = write_spec(tmp_path / "spec.yaml", stream, ["v"])
    start = await end_offsets(kafka, topics.FEATURES.name)
    a, a_addr = start_feature(kafka, spec, tmp_path / "a", group)
    b, b_addr = start_feature(kafka, spec, tmp_path / "b", group)
    try:
        await wait_for(lambda: _eq(stable_members(kafka, group), 2), timeout_s=60, interval_s=0.5)
        records, bad = make_records(stream, 3000, entities=60, missing=10)
        await produce(kafka, records)
        vectors = await read_vectors(kafka, start, stream, len(records) - len(bad))
        entities = sorted({r.entity_id for r in records})
        got_a = await lookup(a_addr, "v", entities)
        got_b = await lookup(b_addr, "v", entities)
    finally:
        assert a.terminate() == 0, a.tail()
        assert b.terminate() == 0, b.tail()
    ids = [v.meta.event_id for v in vectors]
    assert len(set(ids)) == len(ids) == len(records) - len(bad)  # once each
    assert {v.record_id for v in vectors} == {r.meta.event_id for r in records} - bad
    on_a = {v.entity_id for v in got_a.vectors if v.found}
    on_b = {v.entity_id for v in got_b.vectors if v.found}
    assert on_a and on_b and not on_a & on_b, "both replicas work, on disjoint entities"
    assert on_a | on_b == set(entities)


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_online_lookup_returns_the_newest_vector_per_entity(
    kafka, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    stream = unique("s").replace("-", "_")
    spec = write_spec(tmp_path / "spec.yaml", stream, ["v"])
    start = await end_offsets(kafka, topics.FEATURES.name)
    extra = {"DRIFTLOOP_FEATURE_ONLINE_STORE": backend}
    if backend == "redis":
        extra["DRIFTLOOP_FEATURE_REDIS_URL"] = request.getfixturevalue("redis_url")
        extra["DRIFTLOOP_FEATURE_REDIS_PREFIX"] = unique("test-feature") + ":"
    proc, address = start_feature(kafka, spec, tmp_path / "svc", unique("g"), **extra)
    try:
        records, _ = make_records(stream, 400, entities=8)
        await produce(kafka, records)
        vectors = await read_vectors(kafka, start, stream, len(records))
        entities = sorted({r.entity_id for r in records})
        reply = await lookup(address, "v", [*entities, "nobody"])
    finally:
        assert proc.terminate() == 0, proc.tail()
    newest = {}
    for v in vectors:  # newest by event time; an equal time: the later one
        cur = newest.get(v.entity_id)
        if cur is None or v.event_time.ToNanoseconds() >= cur.event_time.ToNanoseconds():
            newest[v.entity_id] = v
    assert list(reply.feature_names) == list(vectors[0].feature_names)
    for item in reply.vectors[:-1]:
        want = newest[item.entity_id]
        assert item.found and item.record_id == want.record_id
        assert list(item.values) == list(want.values)
        assert item.event_time == want.event_time
        assert item.age.ToNanoseconds() >= 0
    assert not reply.vectors[-1].found


async def _eq(value, n: int) -> bool:
    return await value == n


async def test_replicas_share_redis_by_default_and_each_answers_every_entity(
    kafka, tmp_path: Path, redis_url: str
) -> None:
    stream = unique("s").replace("-", "_")
    group = unique("g")
    spec = write_spec(tmp_path / "spec.yaml", stream, ["v"])
    start = await end_offsets(kafka, topics.FEATURES.name)
    # No online store named: with a replica id, "auto" means the shared one.
    env = {
        "DRIFTLOOP_FEATURE_REDIS_URL": redis_url,
        "DRIFTLOOP_FEATURE_REDIS_PREFIX": unique("test-feature") + ":",
    }
    a, a_addr = start_feature(kafka, spec, tmp_path / "a", group, DRIFTLOOP_REPLICA_ID="0", **env)
    b, b_addr = start_feature(kafka, spec, tmp_path / "b", group, DRIFTLOOP_REPLICA_ID="1", **env)
    try:
        await wait_for(lambda: _eq(stable_members(kafka, group), 2), timeout_s=60, interval_s=0.5)
        records, _ = make_records(stream, 600, entities=30)
        await produce(kafka, records)
        await read_vectors(kafka, start, stream, len(records))
        entities = sorted({r.entity_id for r in records})
        for address in (a_addr, b_addr):
            got = await lookup(address, "v", entities)
            assert all(v.found for v in got.vectors), address
    finally:
        assert a.terminate() == 0, a.tail()
        assert b.terminate() == 0, b.tail()


async def test_a_replica_stops_serving_the_partitions_it_gives_up(kafka, tmp_path: Path) -> None:
    stream = unique("s").replace("-", "_")
    group = unique("g")
    spec = write_spec(tmp_path / "spec.yaml", stream, ["v"])
    start = await end_offsets(kafka, topics.FEATURES.name)
    a, a_addr = start_feature(kafka, spec, tmp_path / "a", group)  # memory store
    b = None
    try:
        records, _ = make_records(stream, 600, entities=30)
        await produce(kafka, records)
        await read_vectors(kafka, start, stream, len(records))
        entities = sorted({r.entity_id for r in records})
        alone = await lookup(a_addr, "v", entities)
        assert all(v.found for v in alone.vectors)  # a owned every partition

        b, _ = start_feature(kafka, spec, tmp_path / "b", group)
        await wait_for(lambda: _eq(stable_members(kafka, group), 2), timeout_s=60, interval_s=0.5)

        async def a_gave_some_up() -> bool:
            got = await lookup(a_addr, "v", entities)
            return not all(v.found for v in got.vectors)

        # What a no longer owns it stops serving (not stale answers).
        await wait_for(a_gave_some_up, timeout_s=60, interval_s=0.5)
    finally:
        assert a.terminate() == 0, a.tail()
        if b is not None:
            assert b.terminate() == 0, b.tail()
