"""The FeatureService servicer on an in-process gRPC server, with each online
store backend (the same suite for both: in-memory and real Redis)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from driftloop.feature.v1 import feature_service_pb2 as pb
from driftloop.feature.v1 import feature_service_pb2_grpc as pb_grpc
from driftloop.platform.grpc_client import channel
from driftloop.platform.grpc_server import GrpcServer
from driftloop.platform.settings import GrpcSettings
from driftloop.platform.testing import free_port, unique
from driftloop_feature.adapters.memory_store import InMemoryOnlineStore
from driftloop_feature.adapters.redis_store import RedisOnlineStore
from driftloop_feature.domain.compute import ViewState
from driftloop_feature.entrypoints.servicer import FeatureServicer
from driftloop_feature.service.lookup import OnlineFeatures
from driftloop_feature.service.ports import OnlineEntry, OnlineStore

from ..helpers import record, views


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[OnlineStore]:
    if request.param == "memory":
        s: OnlineStore = InMemoryOnlineStore()
    else:
        s = RedisOnlineStore("redis://127.0.0.1:6379/0", f"{unique('test-feature')}:")
    yield s
    if isinstance(s, RedisOnlineStore):  # leave nothing behind in the shared Redis
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
