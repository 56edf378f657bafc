"""The `driftloop demo` command: start the embedded platform unless one is
running, drive the demo with a live view, write the report, print the summary."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from driftloop_cli import discovery
from driftloop_cli.discovery import DataDir
from driftloop_cli.ui import err as console
from driftloop_cli.ui import escape, print_table

if TYPE_CHECKING:
    from rich.console import Group

    from driftloop_cli.demo.run import DemoConfig, DemoRun


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
    data_dir: DataDir = None,
) -> None:
    """Run the closed-loop demo: stream a drifting dataset through ingestion,
    predict each record over OIP v2 once its vector is online, send labels
    late, and watch the platform train, detect drift, retrain, canary and
    promote (or roll back). Writes an HTML report; prints the summary on stdout.

    Uses the platform `driftloop up` runs (found through the data directory),
    else starts the embedded platform for the length of the demo."""
    if drift not in ("abrupt", "gradual", "recurring", "none"):
        raise typer.BadParameter("drift must be abrupt, gradual, recurring or none")
    from driftloop_cli.commands.up import DEMO_SPEC
    from driftloop_cli.demo.run import DemoConfig

    found = discovery.find(data_dir)
    config = DemoConfig(
        duration_s=duration,
        rate=rate,
        seed=seed,
        drift=drift,  # type: ignore[arg-type]
        drift_at=drift_at,
        label_delay_s=label_delay,
        bad_candidate=bad_candidate,
        stop_after_loop_s=stop_after_loop,
    )
    code = asyncio.run(_main(found, config, spec or DEMO_SPEC, report, json_output))
    raise typer.Exit(code)


async def _main(
    found: discovery.Found, config: DemoConfig, spec: Path, report: Path, json_output: bool
) -> int:
    from rich.live import Live

    from driftloop_cli.demo.report import write_report
    from driftloop_cli.demo.run import run_demo, summary
    from driftloop_cli.health import check_all
    from driftloop_cli.supervisor import Platform, StartError

    settings = found.settings
    health = await check_all(settings.port_offset)
    platform: Platform | None = None
    if not all(v["status"] == "SERVING" for v in health.values()):
        if found.state is not None:
            console.print(
                f"[red]the platform of `driftloop up` (pid {found.state.up_pid}) is not "
                "healthy; `driftloop status` shows which service[/red]"
            )
            return 1
        platform = Platform(settings, spec, settings.data_dir)
        try:
            with console.status("starting driftloop…"):
                await platform.start(progress=lambda m: console.print(f"  [green]✓[/green] {m}"))
        except StartError as exc:
            console.print(f"[red]✗ {escape(str(exc))}[/red]")
            await platform.stop()
            return 1
        platform.write_state(os.getpid())
    try:
        if json_output:
            run = await run_demo(config, settings.kafka, settings.address_of)
        else:
            with Live(console=console, refresh_per_second=4) as live:
                run = await run_demo(
                    config,
                    settings.kafka,
                    settings.address_of,
                    on_tick=lambda r: live.update(_view(r)),
                )
    finally:
        if platform is not None:
            with console.status("stopping driftloop…"):
                await platform.stop()
            platform.clear_state()
    result = summary(run)
    path = write_report(run, result, report)
    if json_output:
        print(json.dumps(result, default=str))
    else:
        _print_summary(result, path)
    return 0


def _view(run: DemoRun) -> Group:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

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
    rows = []
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
        rows.append((key, "-" if value is None else str(value)))
    print_table(("", "value"), rows, title="driftloop demo summary", caption=f"report: {path}")
