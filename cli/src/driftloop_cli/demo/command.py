"""The `driftloop demo` command: start the embedded platform unless one is
running, drive the demo with a live view, write the report, print the summary."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from driftloop.platform.settings import ServiceSettings
from driftloop_cli.demo.report import write_report
from driftloop_cli.demo.run import DemoConfig, DemoRun, run_demo, summary
from driftloop_cli.demo.stream import DriftKind
from driftloop_cli.health import check_all
from driftloop_cli.settings import DEMO_SPEC, cli_settings
from driftloop_cli.state import RunState
from driftloop_cli.supervisor import Platform, StartError

console = Console(stderr=True)


def demo(
    duration: Annotated[float, typer.Option(help="Seconds of streaming.")] = 240.0,
    rate: Annotated[float, typer.Option(help="Records per second.")] = 100.0,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic stream.")] = 42,
    drift: Annotated[str, typer.Option(help="abrupt, gradual, recurring or none.")] = "abrupt",
    drift_at: Annotated[float, typer.Option(help="Where the change starts (share).")] = 0.5,
    label_delay: Annotated[float, typer.Option(help="Seconds before labels are sent.")] = 5.0,
    bad_candidate: Annotated[
        bool, typer.Option("--bad-candidate", help="Deploy a broken candidate by hand.")
    ] = False,
    stop_after_loop: Annotated[
        float | None,
        typer.Option(help="End this many seconds after the rollout completed."),
    ] = None,
    report: Annotated[Path, typer.Option(help="Folder for the report.")] = Path("var/demo-report"),
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON on stdout.")
    ] = False,
    spec: Annotated[Path | None, typer.Option(help="Spec for a platform started here.")] = None,
) -> None:
    """Run the closed-loop demo: stream a drifting dataset through ingestion,
    predict each record over OIP v2 once its vector is online, send labels
    late, and watch the platform train, detect drift, retrain, canary and
    promote (or roll back).

    Starts the embedded platform first unless `driftloop up` is running."""
    if drift not in ("abrupt", "gradual", "recurring", "none"):
        raise typer.BadParameter("drift must be abrupt, gradual, recurring or none")
    settings = cli_settings()
    config = DemoConfig(
        duration_s=duration,
        rate=rate,
        seed=seed,
        drift=_kind(drift),
        drift_at=drift_at,
        label_delay_s=label_delay,
        bad_candidate=bad_candidate,
        stop_after_loop_s=stop_after_loop,
    )
    code = asyncio.run(_main(settings, config, spec or DEMO_SPEC, report, json_output))
    raise typer.Exit(code)


def _kind(value: str) -> DriftKind:
    return value  # type: ignore[return-value]


async def _main(
    settings: ServiceSettings, config: DemoConfig, spec: Path, report: Path, json_output: bool
) -> int:
    state = RunState.read(settings.data_dir)
    offset = state.port_offset if state else settings.port_offset
    health = await check_all(offset)
    platform: Platform | None = None
    if not all(v["status"] == "SERVING" for v in health.values()):
        platform = Platform(settings, spec, settings.data_dir)
        try:
            with console.status("starting driftloop…"):
                await platform.start(progress=lambda m: console.print(f"  [green]✓[/green] {m}"))
        except StartError as exc:
            console.print(f"[red]✗ {exc}[/red]")
            await platform.stop()
            return 1
    run_settings = settings.model_copy(update={"port_offset": offset})
    try:
        if json_output:
            run = await run_demo(config, settings.kafka, run_settings.address_of)
        else:
            with Live(console=console, refresh_per_second=4) as live:
                run = await run_demo(
                    config,
                    settings.kafka,
                    run_settings.address_of,
                    on_tick=lambda r: live.update(_view(r)),
                )
    finally:
        if platform is not None:
            with console.status("stopping driftloop…"):
                await platform.stop()
    result = summary(run)
    path = write_report(run, result, report)
    if json_output:
        print(json.dumps({k: v for k, v in result.items()}, default=str))
    else:
        _print_summary(result, path)
    return 0


def _view(run: DemoRun) -> Group:
    c = run.counters
    elapsed = max(run.now(), 1e-6)
    acc = run.rolling_accuracy()
    table = Table.grid(padding=(0, 2))
    table.add_row("elapsed", f"{elapsed:6.1f} s", "records/s", f"{c.accepted / elapsed:7.1f}")
    table.add_row(
        "champion",
        f"v{run.timeline.champion or '-'}",
        "candidate",
        f"v{run.timeline.candidate or '-'}",
    )
    table.add_row(
        "canary share",
        f"{run.timeline.canary_share:.0%}",
        "rolling accuracy",
        f"{acc:.3f}" if acc is not None else "-",
    )
    table.add_row("predicted", str(c.predicted), "failed", str(c.prediction_failures))
    table.add_row(
        "labels sent",
        str(c.labels_sent),
        "drift onset",
        f"{run.onset_at:.1f} s" if run.onset_at is not None else "-",
    )
    events = Text()
    for e in run.timeline.events[-8:]:
        events.append(f"{e.at:7.1f}s  {e.describe()}\n")
    return Group(table, Text("loop events:", style="bold"), events)


def _print_summary(result: dict[str, Any], path: Path) -> None:
    t = result["timings_s"]
    a = result["accuracy"]
    table = Table(title="driftloop demo summary")
    table.add_column("")
    table.add_column("value")
    for key, value in [
        ("drift onset at", t["drift_onset_at"]),
        ("onset → detection", t["onset_to_detection"]),
        ("onset → candidate registered", t["onset_to_candidate"]),
        ("onset → verdict", t["onset_to_verdict"]),
        ("onset → promotion", t["onset_to_promotion"]),
        ("verdict", result["verdict"]),
        ("accuracy before drift", a["before_drift"]),
        ("accuracy right after drift", a["right_after_drift"]),
        ("accuracy after recovery", a["after_recovery"]),
        ("retrains after onset", result["retrains_after_onset"]),
        (
            "predictions / failed",
            f"{result['counts']['predicted']} / {result['counts']['prediction_failures']}",
        ),
    ]:
        table.add_row(key, "-" if value is None else str(value))
    console.print(table)
    console.print(f"report: {path}")
