"""`driftloop status` checks services where DRIFTLOOP_SERVICE_ADDRESSES puts
them (compose, a cluster), not only on loopback default ports."""

from grpc_health.v1 import health_pb2

from driftloop_cli.health import check_all


async def test_a_named_address_is_checked_there(health_server) -> None:
    port, health = health_server
    await health.set("", health_pb2.HealthCheckResponse.SERVING)
    result = await check_all(
        port_offset=0, host="127.0.0.9", addresses={"registry": f"localhost:{port}"}
    )
    assert result["registry"]["status"] == "SERVING"
    assert result["registry"]["grpc"] == f"localhost:{port}"
    assert result["registry"]["metrics"] == "http://localhost:9104/metrics"
    # Not named: the host and the default port, where nothing listens here.
    assert result["serving"]["grpc"] == "127.0.0.9:50055"
