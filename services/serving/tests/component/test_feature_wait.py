"""Entity lookups wait for a feature service that is (re)starting, up to
``feature_wait_s``, instead of failing the prediction at once (real gRPC)."""

from __future__ import annotations

import asyncio

import pytest

from driftloop.feature.v1 import feature_service_pb2_grpc
from driftloop.platform.errors import Unavailable
from driftloop.platform.grpc_client import channel
from driftloop.platform.grpc_server import GrpcServer
from driftloop.platform.settings import GrpcSettings
from driftloop.platform.testing import free_port
from driftloop_serving.adapters.features import GrpcFeatures

from ..conftest import FakeFeatures


async def _serve(features: FakeFeatures, port: int) -> GrpcServer:
    server = GrpcServer(GrpcSettings(port=port), 0)
    server.add(
        feature_service_pb2_grpc.add_FeatureServiceServicer_to_server,
        features,
        "driftloop.feature.v1.FeatureService",
    )
    await server.start()
    return server


async def test_a_lookup_waits_for_a_feature_service_that_comes_up():
    port = free_port()
    features = FakeFeatures()
    features.put("txn", "cust-1", [0.5, 1.5], "rec-1")
    ch = channel(f"127.0.0.1:{port}")
    try:
        lookup = asyncio.create_task(GrpcFeatures(ch, wait_s=60).newest("txn", "cust-1"))
        await asyncio.sleep(0.5)  # asked while nothing listens (the service restarting)
        assert not lookup.done()
        server = await _serve(features, port)
        try:
            vector = await asyncio.wait_for(lookup, 60)
        finally:
            await server.stop()
        assert vector is not None and vector.record_id == "rec-1"
    finally:
        await ch.close()


async def test_a_feature_service_that_stays_away_is_unavailable_after_the_wait():
    ch = channel(f"127.0.0.1:{free_port()}")
    try:
        with pytest.raises(Unavailable, match="feature service unavailable"):
            await GrpcFeatures(ch, wait_s=0.5).newest("txn", "cust-1")
    finally:
        await ch.close()
