"""The FeatureService servicer on an in-process gRPC server, with each online
store backend (the same suite for all: in-memory, real Redis, and real Redis
with its near cache), and the near cache's coherence on real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
import redis.asyncio as redis

from driftloop.feature.v1 import feature_service_pb2 as pb
from driftloop.feature.v1 import feature_service_pb2_grpc as pb_grpc
from driftloop.platform.grpc_client import channel
from driftloop.platform.grpc_server import GrpcServer
from driftloop.platform.settings import GrpcSettings
from driftloop.platform.testing import free_port, unique, wait_for
from driftloop_feature.adapters.memory_store import InMemoryOnlineStore
from driftloop_feature.adapters.redis_store import RedisOnlineStore
from driftloop_feature.domain.compute import ViewState
from driftloop_feature.entrypoints.servicer import FeatureServicer
from driftloop_feature.service.lookup import OnlineFeatures
from driftloop_feature.service.ports import OnlineEntry, OnlineStore

from ..helpers import record, views


@pytest.fixture(params=["memory", "redis", "redis-cached"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[OnlineStore]:
    if request.param == "memory":
        yield InMemoryOnlineStore()
        return
    cached = request.param == "redis-cached"
    url = request.getfixturevalue("redis_url")
    async with redis_store(url, f"{unique('test-feature')}:", cached) as s:
        yield s


class redis_store:
    """A Redis store (its near cache running and active when ``cached``);
    its keys are deleted afterwards."""

    def __init__(self, url: str, prefix: str, cached: bool) -> None:
        self.store = RedisOnlineStore(url, prefix, cache_entries=1000 if cached else 0)
        self.task: asyncio.Task | None = None

    async def __aenter__(self) -> RedisOnlineStore:
        cache = self.store.cache
        if cache is not None:
            self.task = asyncio.create_task(self.store.run_cache())
            await wait_for(lambda: cache.active, timeout_s=10, interval_s=0.01)
        return self.store

    async def __aexit__(self, *exc: object) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        s = self.store
        keys = [k async for k in s._redis.scan_iter(match=f"{s._prefix}*")]
        if keys:
            await s._redis.delete(*keys)
        await s.close()


@pytest.fixture
async def stub(store: OnlineStore) -> AsyncIterator[pb_grpc.FeatureServiceStub]:
    server = GrpcServer(GrpcSettings(port=free_port()), default_port=0)
    lookup = OnlineFeatures(views(), store, max_entities=100)
    server.add(
        pb_grpc.add_FeatureServiceServicer_to_server,
        FeatureServicer(lookup),
        "driftloop.feature.v1.FeatureService",
    )
    await server.start()
    async with channel(f"127.0.0.1:{server.port}") as ch:
        yield pb_grpc.FeatureServiceStub(ch)
    await server.stop()


async def put(store: OnlineStore, *records) -> list:
    state = ViewState(views()[0])
    vectors = [state.apply(r) for r in records]
    await store.put_many([OnlineEntry(v, computed_at=1.0) for v in vectors])
    return vectors


async def test_returns_the_newest_vector_per_entity_in_request_order(store, stub) -> None:
    vectors = await put(
        store,
        record("a1", "alice", 100.0, x=1.0),
        record("b1", "bob", 100.0, x=5.0),
        record("a2", "alice", 101.0, x=2.0),
    )
    # An older vector arriving later never replaces a newer one.
    await store.put_many([OnlineEntry(vectors[0], computed_at=2.0)])
    reply = await stub.GetOnlineFeatures(
        pb.GetOnlineFeaturesRequest(view="v", entity_ids=["bob", "carol", "alice"])
    )
    assert reply.view == "v" and reply.view_version == 1
    assert list(reply.feature_names) == list(vectors[0].names)
    bob, carol, alice = reply.vectors
    assert (bob.entity_id, bob.found, bob.record_id) == ("bob", True, "b1")
    assert list(bob.values) == pytest.approx(vectors[1].values)
    assert (carol.entity_id, carol.found, list(carol.values)) == ("carol", False, [])
    assert alice.record_id == "a2" and list(alice.values) == pytest.approx(vectors[2].values)
    assert alice.event_time.ToNanoseconds() == vectors[2].event_time_ns
    assert alice.age.ToSeconds() > 1_000_000  # computed_at=1.0: the epoch's first second


@pytest.mark.parametrize(
    ("request_", "code", "field"),
    [
        (pb.GetOnlineFeaturesRequest(entity_ids=["a"]), grpc.StatusCode.INVALID_ARGUMENT, "view"),
        (
            pb.GetOnlineFeaturesRequest(view="nope", entity_ids=["a"]),
            grpc.StatusCode.NOT_FOUND,
            "view",
        ),
        (pb.GetOnlineFeaturesRequest(view="v"), grpc.StatusCode.INVALID_ARGUMENT, "entity_ids"),
        (
            pb.GetOnlineFeaturesRequest(view="v", entity_ids=["a", ""]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "entity_ids[1]",
        ),
        (
            pb.GetOnlineFeaturesRequest(view="v", entity_ids=[str(i) for i in range(101)]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "entity_ids",
        ),
    ],
)
async def test_bad_requests_get_a_status_naming_the_field(stub, request_, code, field) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetOnlineFeatures(request_)
    assert err.value.code() == code
    assert err.value.details().startswith(f"{field}:")


async def test_list_feature_views_gives_names_and_width(stub) -> None:
    reply = await stub.ListFeatureViews(pb.ListFeatureViewsRequest())
    [info] = reply.views
    assert (info.name, info.version, info.stream) == ("v", 1, "s")
    assert len(info.feature_names) == views()[0].width == 17


async def until_alice_is(store: RedisOnlineStore, record_id: str) -> None:
    """Wait until a lookup of alice answers ``record_id`` (an invalidation is
    asynchronous: it arrives within milliseconds, not at once)."""

    async def newest() -> bool:
        [entry] = await store.get_many("v", 1, ["alice"])
        return entry is not None and entry.vector.record_id == record_id

    await wait_for(newest, timeout_s=5, interval_s=0.01)


async def test_near_cache_answers_repeated_lookups_without_redis(redis_url: str) -> None:
    async with redis_store(redis_url, f"{unique('test-feature')}:", cached=True) as s:
        [vector] = await put(s, record("a1", "alice", 100.0, x=1.0))
        assert s.cache is not None
        for _ in range(3):
            [entry] = await s.get_many("v", 1, ["alice"])
            assert entry is not None and entry.vector.values == pytest.approx(vector.values)
        assert (s.cache.misses, s.cache.hits) == (1, 2)


async def test_near_cache_sees_a_change_made_by_another_replica(redis_url: str) -> None:
    prefix = f"{unique('test-feature')}:"
    async with (
        redis_store(redis_url, prefix, cached=True) as mine,
        redis_store(redis_url, prefix, False) as other,
    ):
        await put(mine, record("a1", "alice", 100.0, x=1.0))
        await mine.get_many("v", 1, ["alice"])
        [cached] = await mine.get_many("v", 1, ["alice"])
        assert cached is not None and cached.vector.record_id == "a1"
        assert mine.cache is not None and mine.cache.hits == 1
        # The other replica writes a newer vector straight to Redis.
        await put(other, record("a2", "alice", 101.0, x=2.0))
        await until_alice_is(mine, "a2")


async def test_near_cache_is_dropped_when_its_invalidations_are_lost(redis_url: str) -> None:
    prefix = f"{unique('test-feature')}:"
    async with (
        redis_store(redis_url, prefix, cached=True) as mine,
        redis_store(redis_url, prefix, False) as other,
    ):
        cache = mine.cache
        assert cache is not None
        await put(mine, record("a1", "alice", 100.0, x=1.0))
        await mine.get_many("v", 1, ["alice"])
        lost = cache._listener_id
        admin = redis.Redis.from_url(redis_url)
        try:
            # Kill the invalidation connection: from then on nothing cached may be used.
            assert await admin.client_kill_filter(_id=lost) == 1
            await wait_for(lambda: cache._listener_id != lost, timeout_s=10, interval_s=0.01)
        finally:
            await admin.aclose()
        await put(other, record("a2", "alice", 101.0, x=2.0))
        [entry] = await mine.get_many("v", 1, ["alice"])
        assert entry is not None and entry.vector.record_id == "a2"
        # Caching resumes with the new connection, and stays coherent.
        await wait_for(lambda: cache.active, timeout_s=10, interval_s=0.01)
        await mine.get_many("v", 1, ["alice"])
        await put(other, record("a3", "alice", 102.0, x=3.0))
        await until_alice_is(mine, "a3")


async def test_a_read_invalidated_while_in_flight_is_not_cached(redis_url: str) -> None:
    async with redis_store(redis_url, f"{unique('test-feature')}:", cached=True) as s:
        cache = s.cache
        assert cache is not None
        await put(s, record("a1", "alice", 100.0, x=1.0))
        key = s.key("v", 1, "alice").encode()
        read = cache._reader.mget

        async def read_then_invalidated(keys):  # the change lands while the reply travels
            values = await read(keys)
            cache.invalidate([key])
            return values

        cache._reader.mget = read_then_invalidated  # type: ignore[method-assign]
        [entry] = await s.get_many("v", 1, ["alice"])
        assert entry is not None and entry.vector.record_id == "a1"
        cache._reader.mget = read  # type: ignore[method-assign]
        await s.get_many("v", 1, ["alice"])
        assert (cache.misses, cache.hits) == (2, 0)  # the first answer was not kept
