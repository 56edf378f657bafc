"""The container health check (`python -m driftloop_cli.probe`): exit 0 when
the driftloop service in this container reports SERVING on gRPC health.

One image runs any of the six services, so the probe asks each default port
(plus DRIFTLOOP_PORT_OFFSET, or DRIFTLOOP_GRPC_PORT when set) on loopback and
is satisfied by the one that answers."""

from __future__ import annotations

import asyncio
import sys

from driftloop.platform.ports import SERVICES
from driftloop.platform.settings import ServiceSettings, load_settings
from driftloop_cli.health import check


def ports(settings: ServiceSettings) -> list[int]:
    if settings.grpc.port:
        return [settings.grpc.port]
    return [s.grpc_port + settings.port_offset for s in SERVICES.values()]


async def serving(settings: ServiceSettings) -> bool:
    statuses = await asyncio.gather(*(check(f"127.0.0.1:{p}") for p in ports(settings)))
    return "SERVING" in statuses


def main() -> None:
    sys.exit(0 if asyncio.run(serving(load_settings(ServiceSettings))) else 1)


if __name__ == "__main__":
    main()
