"""`driftloop status` checks services where DRIFTLOOP_SERVICE_ADDRESSES puts
them (compose, a cluster), not only on loopback default ports."""

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer

from driftloop.platform.testing import free_port
from driftloop_cli.health import check_all


async def test_a_named_address_is_checked_there() -> None:
    port = free_port()
    server = grpc.aio.server()
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    try:
        await health.set("", health_pb2.HealthCheckResponse.SERVING)
        result = await check_all(
            port_offset=0, host="127.0.0.9", addresses={"registry": f"localhost:{port}"}
        )
    finally:
        await server.stop(0)
    assert result["registry"]["status"] == "SERVING"
    assert result["registry"]["grpc"] == f"localhost:{port}"
    assert result["registry"]["metrics"] == "http://localhost:9104/metrics"
    # Not named: the host and the default port, where nothing listens here.
    assert result["serving"]["grpc"] == "127.0.0.9:50055"
