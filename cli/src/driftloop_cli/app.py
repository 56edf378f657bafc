"""The ``driftloop`` command: run the embedded platform, check it, read its
events and validate specs."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from driftloop.platform.settings import ServiceSettings, SettingsError, load_settings
from driftloop.platform.spec import SpecError, load_spec
from driftloop.platform.topics import ALL as TOPICS
from driftloop.platform.topics import by_name
from driftloop_cli import health
from driftloop_cli.models import models_app
from driftloop_cli.state import RunState
from driftloop_cli.supervisor import Child, Platform, StartError

DEMO_SPEC = Path(__file__).parent / "specs" / "demo.yaml"

app = typer.Typer(
    help="driftloop: an event-driven MLOps platform. Producer apps stream records in, "
    "features are computed as they flow, models are trained, registered, served over "
    "gRPC and watched; drift triggers retraining and a canary that is promoted or rolled "
    "back on live evidence.\n\nSettings come from DRIFTLOOP_* environment variables.",
    no_args_is_help=True,
    add_completion=False,
)
events_app = typer.Typer(help="Read the platform's event topics.", no_args_is_help=True)
app.add_typer(events_app, name="events")
app.add_typer(models_app, name="models")

console = Console(stderr=True)
out = Console()


@app.callback()
def _quiet_libraries() -> None:
    # The CLI speaks through rich; library logs (structlog, aiokafka) go to
    # stderr and only when something is wrong, so stdout stays parseable.
    import logging

    from driftloop.platform.logging import configure_logging
    from driftloop.platform.settings import LogSettings

    configure_logging("cli", LogSettings(level="WARNING", format="console"))
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


def _settings() -> ServiceSettings:
    try:
        return load_settings(ServiceSettings)
    except SettingsError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


@app.command()
def up(
    spec: Annotated[
        Path, typer.Option(help="Spec file (streams, feature views, models).")
    ] = DEMO_SPEC,
    only: Annotated[
        list[str] | None, typer.Option(help="Start only these services (repeatable).")
    ] = None,
    replicas: Annotated[
        int,
        typer.Option(
            min=1,
            max=9,
            help="Processes per service (replica k listens on the default ports + 1000k). "
            "Above 1 the feature service keeps its online store in Redis "
            "(DRIFTLOOP_FEATURE_REDIS_URL, default 127.0.0.1:6379).",
        ),
    ] = 1,
) -> None:
    """Start the broker (unless DRIFTLOOP_KAFKA_BOOTSTRAP names one) and all six
    services as processes (``--replicas N`` of each); wait until every one is
    healthy, print the endpoints, and run until Ctrl-C or `driftloop down`,
    then stop everything gracefully."""
    settings = _settings()
    try:
        load_spec(spec)
    except (SpecError, OSError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    data_dir = settings.data_dir
    if (state := RunState.read(data_dir)) and _alive(state.up_pid):
        console.print(
            f"[red]driftloop is already running (pid {state.up_pid}); "
            "`driftloop down` stops it.[/red]"
        )
        raise typer.Exit(1)
    platform = Platform(
        settings, spec, data_dir, services=only or list(health.SERVICES), replicas=replicas
    )
    code = asyncio.run(_run_up(platform))
    raise typer.Exit(code)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # an exited process its parent has not reaped yet is not running
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


async def _run_up(platform: Platform) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    started = time.monotonic()
    code = 0
    try:
        with console.status("starting driftloop…"):
            await platform.start(progress=lambda m: console.print(f"  [green]✓[/green] {m}"))
    except StartError as exc:
        console.print(f"[red]✗ {exc}[/red]")
        code = 1
    except Exception as exc:
        console.print(f"[red]✗ could not start: {exc}[/red]")
        code = 1
    if code == 0:
        elapsed = time.monotonic() - started
        RunState(
            up_pid=os.getpid(),
            kafka=platform.settings.kafka.servers,
            port_offset=platform.port_offset,
            services={
                n: {"grpc": int(c.address.rsplit(":", 1)[1])} for n, c in platform.children.items()
            },
            broker_pid=platform.broker.process.pid
            if platform.broker and platform.broker.process
            else None,
        ).write(platform.data_dir)
        _print_endpoints(platform, elapsed)

        def exited(child: Child) -> None:
            code = child.process.returncode if child.process else None
            console.print(f"[red]✗ {child.name} exited ({code}); log: {child.log_path}[/red]")

        await platform.watch(stop, exited)
    with console.status("stopping driftloop…"):
        codes = await platform.stop()
    RunState.clear(platform.data_dir)
    for name, rc in codes.items():
        mark = "[green]✓[/green]" if rc == 0 else "[red]✗[/red]"
        console.print(f"  {mark} {name} stopped (exit {rc})")
    return code or (0 if all(rc == 0 for rc in codes.values()) else 1)


def _print_endpoints(platform: Platform, elapsed: float) -> None:
    table = Table(title=f"driftloop is up ({elapsed:.1f}s) — Ctrl-C or `driftloop down` stops it")
    table.add_column("service")
    table.add_column("gRPC")
    table.add_column("metrics")
    table.add_column("log")
    from driftloop.platform.ports import SERVICES

    for name, child in platform.children.items():
        metrics = SERVICES[name].metrics_port + platform.port_offset
        table.add_row(
            name, child.address, f"http://127.0.0.1:{metrics}/metrics", str(child.log_path)
        )
    table.caption = f"Kafka: {platform.settings.kafka.servers}"
    console.print(table)


@app.command()
def down(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the stop.")] = 60.0,
) -> None:
    """Stop a platform started with `driftloop up` (in another terminal)."""
    settings = _settings()
    state = RunState.read(settings.data_dir)
    if state is None or not _alive(state.up_pid):
        console.print("driftloop is not running.")
        RunState.clear(settings.data_dir)
        return
    os.kill(state.up_pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(state.up_pid):
        if time.monotonic() > deadline:
            console.print(f"[red]still running after {timeout:.0f}s (pid {state.up_pid})[/red]")
            raise typer.Exit(1)
        time.sleep(0.2)
    console.print("driftloop stopped.")


@app.command()
def status(
    json_output: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show each service's gRPC health. Exit 0 when all are SERVING."""
    settings = _settings()
    state = RunState.read(settings.data_dir)
    offset = state.port_offset if state else settings.port_offset
    result = asyncio.run(health.check_all(offset))
    healthy = all(v["status"] == "SERVING" for v in result.values())
    if json_output:
        out.print_json(json.dumps({"healthy": healthy, "services": result}))
    else:
        table = Table(title="driftloop status")
        for col in ("service", "status", "gRPC", "metrics"):
            table.add_column(col)
        for name, info in result.items():
            color = "green" if info["status"] == "SERVING" else "red"
            table.add_row(
                name,
                f"[{color}]{info['status']}[/{color}]",
                str(info["grpc"]),
                str(info["metrics"]),
            )
        out.print(table)
    raise typer.Exit(0 if healthy else 1)


@events_app.command("tail")
def events_tail(
    topic: Annotated[str, typer.Argument(help="Topic, with or without the `driftloop.` prefix.")],
    from_beginning: Annotated[
        bool, typer.Option("--from-beginning", help="Start at the oldest event.")
    ] = False,
    max_events: Annotated[int | None, typer.Option("--max", help="Stop after N events.")] = None,
    idle_timeout: Annotated[
        float | None, typer.Option(help="Stop after this many seconds without an event.")
    ] = None,
) -> None:
    """Print events as JSON lines with their CloudEvents headers."""
    from driftloop_cli.tail import tail, to_line

    settings = _settings()
    try:
        name = by_name(topic).name
    except KeyError as exc:
        console.print(f"[red]{exc.args[0]}[/red]")
        raise typer.Exit(2) from None

    async def run() -> None:
        count = 0
        async for item in tail(
            settings.kafka, name, from_beginning=from_beginning, idle_timeout_s=idle_timeout
        ):
            print(to_line(item), flush=True)
            count += 1
            if max_events is not None and count >= max_events:
                return

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


@events_app.command("topics")
def events_topics() -> None:
    """List the topics, their keys and the events they carry."""
    table = Table(title="driftloop topics")
    for col in ("topic", "key", "events"):
        table.add_column(col)
    for t in TOPICS:
        table.add_row(t.name, t.key, "\n".join(t.carries))
    out.print(table)


@app.command()
def apply(spec: Annotated[Path, typer.Argument(help="The spec file to validate.")]) -> None:
    """Validate a spec; on error, name each problem by path and line."""
    try:
        parsed = load_spec(spec)
    except OSError as exc:
        console.print(f"[red]cannot read {spec}: {exc}[/red]")
        raise typer.Exit(2) from None
    except SpecError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    out.print(
        f"[green]{spec} is valid[/green]: {len(parsed.streams)} stream(s), "
        f"{len(parsed.feature_views)} feature view(s), {len(parsed.models)} model(s)"
    )


def main() -> None:
    app()


def _register_demo() -> None:
    from driftloop_cli.demo.command import demo

    app.command("demo")(demo)


_register_demo()
