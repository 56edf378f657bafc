"""The container health check passes only while the service reports SERVING."""

from grpc_health.v1 import health_pb2

from driftloop.platform.settings import GrpcSettings, ServiceSettings
from driftloop.platform.testing import free_port
from driftloop_cli.probe import serving


async def test_probe_follows_the_health_status(health_server) -> None:
    port, health = health_server
    settings = ServiceSettings(grpc=GrpcSettings(port=port))
    await health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    starting = await serving(settings)
    await health.set("", health_pb2.HealthCheckResponse.SERVING)
    ready = await serving(settings)
    nobody = await serving(ServiceSettings(grpc=GrpcSettings(port=free_port())))
    assert (starting, ready, nobody) == (False, True, False)
