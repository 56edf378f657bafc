"""gRPC health checks of the platform's services."""

from __future__ import annotations

import asyncio

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
    port_offset: int = 0, host: str = "127.0.0.1", addresses: dict[str, str] | None = None
) -> dict[str, dict[str, object]]:
    """Health of every service: at ``addresses[name]`` when given
    (``DRIFTLOOP_SERVICE_ADDRESSES``), else on its default port plus the offset."""
    names = list(SERVICES)
    given = addresses or {}
    grpc_at = [given.get(n) or f"{host}:{SERVICES[n].grpc_port + port_offset}" for n in names]
    statuses = await asyncio.gather(*(check(a) for a in grpc_at))
    return {
        n: {
            "status": s,
            "grpc": a,
            "metrics": f"http://{a.rsplit(':', 1)[0]}:{SERVICES[n].metrics_port + port_offset}"
            "/metrics",
        }
        for n, a, s in zip(names, grpc_at, statuses, strict=True)
    }
