"""`driftloop status`: each service's gRPC health."""

from __future__ import annotations

import asyncio

import typer

from driftloop_cli import discovery
from driftloop_cli.discovery import DataDir
from driftloop_cli.ui import JsonFlag, print_json, print_table


def status(json_output: JsonFlag = False, data_dir: DataDir = None) -> None:
    """Show each service's gRPC health. Exit 0 when all are SERVING, 1 otherwise.
    Services named in DRIFTLOOP_SERVICE_ADDRESSES (compose, a cluster) are
    checked there."""
    from driftloop_cli import health

    found = discovery.find(data_dir)
    result = asyncio.run(
        health.check_all(found.settings.port_offset, addresses=found.settings.service_addresses)
    )
    healthy = all(v["status"] == "SERVING" for v in result.values())
    if json_output:
        print_json({"healthy": healthy, "services": result})
    else:
        print_table(
            ("service", "status", "gRPC", "metrics"),
            [(n, str(i["status"]), str(i["grpc"]), str(i["metrics"])) for n, i in result.items()],
            title="driftloop status",
            caption=f"found through {found.where}",
        )
    raise typer.Exit(0 if healthy else 1)
