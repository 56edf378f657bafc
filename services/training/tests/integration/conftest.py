"""Fixtures shared by the training service's process tests."""

import grpc
import pytest
from training_fakes import FakeRegistry

from driftloop.registry.v1 import registry_service_pb2_grpc


@pytest.fixture
async def fake_registry():
    """A registry on an in-process gRPC server: (fake, its address)."""
    fake = FakeRegistry()
    server = grpc.aio.server()
    registry_service_pb2_grpc.add_RegistryServiceServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield fake, f"127.0.0.1:{port}"
    await server.stop(0)
