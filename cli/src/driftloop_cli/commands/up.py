"""`driftloop up`: run the embedded platform in the foreground."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from driftloop_cli import discovery
from driftloop_cli.discovery import DataDir
from driftloop_cli.ui import err, escape, fail, print_table

if TYPE_CHECKING:
    from driftloop_cli.supervisor import Child, Platform

DEMO_SPEC = Path(__file__).parent.parent / "specs" / "demo.yaml"

#: Exit code of an `up` stopped by Ctrl-C or SIGTERM before it was up.
INTERRUPTED = 130


class Broker(StrEnum):
    """The local broker ``driftloop up --broker`` runs."""

    tansu = "tansu"
    kafka = "kafka"


def up(
    spec: Annotated[
        Path, typer.Option(help="Spec file (streams, feature views, models).")
    ] = DEMO_SPEC,
    only: Annotated[
        list[str] | None, typer.Option(help="Start only these services (repeatable).")
    ] = None,
    start_timeout: Annotated[
        float, typer.Option(help="Seconds each service may take to become healthy.")
    ] = 120.0,
    broker: Annotated[
        Broker | None,
        typer.Option(
            help="The local broker to run: tansu (embedded, in memory; the default) or "
            "kafka (Apache Kafka in KRaft mode, its log under DRIFTLOOP_DATA_DIR/kafka so "
            "topics and offsets survive a restart; needs Java 17+, and Maven the first "
            "time to fetch its jars). Overrides DRIFTLOOP_KAFKA_EMBEDDED.",
        ),
    ] = None,
    data_dir: DataDir = None,
    replicas: Annotated[
        int,
        typer.Option(
            min=1,
            max=9,
            help="Processes per service: replica k gets DRIFTLOOP_REPLICA_ID=k and the "
            "default ports + 1000k. Above 1 the feature service keeps its online store in "
            "Redis (DRIFTLOOP_FEATURE_REDIS_URL, default 127.0.0.1:6379).",
        ),
    ] = 1,
) -> None:
    """Start the broker (unless DRIFTLOOP_KAFKA_BOOTSTRAP names one) and the six
    services as processes (--replicas N of each), wait until each is healthy and
    print the endpoints; run until Ctrl-C, SIGTERM or `driftloop down`, then stop everything.

    Ctrl-C while starting stops what was started. Other commands find this
    platform through the run file in the data directory."""
    from driftloop.platform.spec import SpecError, load_spec
    from driftloop_cli import health
    from driftloop_cli.supervisor import Platform

    settings = discovery.settings(data_dir)
    if broker is not None:
        if not settings.kafka.own_broker:
            fail(
                "--broker starts a local broker, but DRIFTLOOP_KAFKA_BOOTSTRAP names an "
                "existing one; unset it or drop --broker.",
                2,
            )
        settings.kafka = settings.kafka.model_copy(update={"embedded": broker.value})
    try:
        load_spec(spec)
    except (SpecError, OSError) as exc:
        fail(str(exc), 2)
    found = discovery.find(data_dir)
    if found.state is not None:
        fail(
            f"driftloop is already running (pid {found.state.up_pid}, data dir "
            f"{settings.data_dir}); `driftloop down` stops it."
        )
    unknown = sorted(set(only or ()) - set(health.SERVICES))
    if unknown:
        fail(f"unknown service(s) {', '.join(unknown)}; known: {', '.join(health.SERVICES)}", 2)
    platform = Platform(
        settings,
        spec,
        settings.data_dir,
        services=only or list(health.SERVICES),
        start_timeout_s=start_timeout,
        replicas=replicas,
    )
    raise typer.Exit(asyncio.run(run(platform)))


async def run(platform: Platform) -> int:
    """Start ``platform``, keep it running until a signal, stop it; the exit code."""
    from driftloop_cli.supervisor import StartError

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    started = time.monotonic()
    code = 0
    with err.status("starting driftloop… (Ctrl-C stops)"):
        starting = asyncio.create_task(platform.start(progress=_progress(started)))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not starting.done():
            starting.cancel()
            await asyncio.wait({starting})
            err.print("[yellow]interrupted while starting: stopping what was started[/yellow]")
            code = INTERRUPTED
        elif isinstance(exc := starting.exception(), StartError):
            err.print(f"[red]✗ {escape(str(exc))}[/red]")
            code = 1
        elif exc is not None:
            err.print(f"[red]✗ could not start: {escape(str(exc) or type(exc).__name__)}[/red]")
            code = 1
    if code == 0:
        platform.write_state(os.getpid())
        _print_endpoints(platform, time.monotonic() - started)
        await platform.watch(stop, _report_exit)
    with err.status("stopping driftloop…"):
        codes = await platform.stop()
    platform.clear_state()
    for name, rc in codes.items():
        mark = "[green]✓[/green]" if rc == 0 else "[red]✗[/red]"
        err.print(f"  {mark} {name} stopped (exit {rc})")
    return code or (0 if all(rc == 0 for rc in codes.values()) else 1)


def _progress(started: float) -> Callable[[str], None]:
    def say(message: str) -> None:
        took = time.monotonic() - started
        err.print(f"  [green]✓[/green] {escape(message)} [dim](at {took:.1f} s)[/dim]")

    return say


def _report_exit(child: Child) -> None:
    err.print(f"[red]✗ {escape(child.describe_exit())}[/red]")


def _print_endpoints(platform: Platform, elapsed: float) -> None:
    from driftloop.platform.ports import SERVICES

    rows = [
        (
            name,
            child.address,
            f"http://127.0.0.1:{SERVICES[name].metrics_port + platform.port_offset}/metrics",
            str(child.log_path),
        )
        for name, child in platform.children.items()
    ]
    print_table(
        ("service", "gRPC", "metrics", "log"),
        rows,
        title=f"driftloop is up in {elapsed:.1f} s — Ctrl-C or `driftloop down` stops it",
        caption=f"Kafka: {platform.settings.kafka.servers}",
    )
