"""The container health check passes only while the service reports SERVING."""

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer

from driftloop.platform.settings import GrpcSettings, ServiceSettings
from driftloop.platform.testing import free_port
from driftloop_cli.probe import serving


async def test_probe_follows_the_health_status() -> None:
    port = free_port()
    server = grpc.aio.server()
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    settings = ServiceSettings(grpc=GrpcSettings(port=port))
    try:
        await health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
        starting = await serving(settings)
        await health.set("", health_pb2.HealthCheckResponse.SERVING)
        ready = await serving(settings)
    finally:
        await server.stop(0)
    gone = await serving(settings)
    assert (starting, ready, gone) == (False, True, False)
