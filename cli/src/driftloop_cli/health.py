"""gRPC health checks of the platform's services."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from driftloop.platform.ports import SERVICES


async def check(address: str, timeout: float = 2.0) -> str:
    """SERVING, NOT_SERVING, SERVICE_UNKNOWN or UNREACHABLE."""
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout
            )
        except grpc.aio.AioRpcError:
            return "UNREACHABLE"
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


async def check_all(
    port_offset: int = 0, host: str = "127.0.0.1", addresses: Mapping[str, str] | None = None
) -> dict[str, dict[str, object]]:
    """Health of every service: at ``addresses[name]`` (``DRIFTLOOP_SERVICE_ADDRESSES``)
    where given, else on ``host`` at its default ports plus the offset."""
    names = list(SERVICES)
    where = {n: _where(n, port_offset, host, addresses or {}) for n in names}
    statuses = await asyncio.gather(*(check(where[n][0]) for n in names))
    return {
        n: {"status": s, "grpc": where[n][0], "metrics": where[n][1]}
        for n, s in zip(names, statuses, strict=True)
    }


def _where(name: str, offset: int, host: str, addresses: Mapping[str, str]) -> tuple[str, str]:
    """A service's gRPC address and metrics URL."""
    info = SERVICES[name]
    grpc_address = addresses.get(name, f"{host}:{info.grpc_port + offset}")
    grpc_host = grpc_address.rsplit(":", 1)[0]
    return grpc_address, f"http://{grpc_host}:{info.metrics_port + offset}/metrics"
