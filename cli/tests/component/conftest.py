"""A real gRPC health server on loopback, for the CLI's health checks."""

from collections.abc import AsyncIterator

import grpc
import pytest
from grpc_health.v1 import health_pb2_grpc
from grpc_health.v1._async import HealthServicer

from driftloop.platform.testing import free_port


@pytest.fixture
async def health_server() -> AsyncIterator[tuple[int, HealthServicer]]:
    """(port, the servicer whose statuses the test sets)."""
    port = free_port()
    server = grpc.aio.server()
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    try:
        yield port, health
    finally:
        await server.stop(0)
