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
from driftloop_cli.ui import escape, print_table, version_word

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
        typer.Option(
            help="End this many seconds after the rollout completed "
            "(the second rollout with --drift recurring)."
        ),
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
        if json_output or not console.is_terminal:
            # No live screen in a pipe or a log: each loop event as one line.
            run = await run_demo(config, settings.kafka, settings.address_of, _EventLines())
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


class _EventLines:
    """Prints each new loop event on stderr, with what the platform waits for."""

    def __init__(self) -> None:
        self.shown = 0

    def __call__(self, run: DemoRun) -> None:
        from driftloop_cli.demo.run import waiting_for

        events = run.timeline.events
        for e in events[self.shown :]:
            console.print(f"{e.at:7.1f} s  {escape(e.describe())}")
        if len(events) > self.shown:
            console.print(f"           [dim]waiting for: {escape(waiting_for(run))}[/dim]")
        self.shown = len(events)


def _view(run: DemoRun) -> Group:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from driftloop_cli.demo.run import waiting_for

    c = run.counters
    tl = run.timeline
    elapsed = max(run.now(), 1e-6)
    acc = run.rolling_accuracy()
    table = Table.grid(padding=(0, 2))
    table.add_row(
        "elapsed",
        f"{elapsed:6.1f} s",
        "records/s",
        f"{c.accepted / elapsed:7.1f}",
        "drift onset",
        f"at {run.onset_at:.1f} s" if run.onset_at is not None else "not yet",
    )
    table.add_row(
        "champion",
        version_word(tl.champion),
        "candidate",
        version_word(tl.candidate),
        "canary share",
        f"{tl.canary_share:.0%}",
    )
    table.add_row(
        "rolling accuracy",
        f"{acc:.3f}" if acc is not None else "-",
        "labels sent",
        str(c.labels_sent),
        "",
        "",
    )
    sums = Text(f"sent {c.sent} = ")
    sums.append(" + ".join(f"{label} {n}" for label, n in _parts(c)))
    events = Text()
    for e in tl.events[-8:]:
        events.append(f"{e.at:7.1f} s  {e.describe()}\n")
    return Group(
        table,
        sums,
        Text(f"waiting for: {waiting_for(run)}", style="italic"),
        Text("loop events:", style="bold"),
        events,
    )


def _parts(c: Any) -> list[tuple[str, int]]:
    """The terms of ``sent``, the rare ones only when they happened."""
    parts = [
        ("predicted", c.predicted),
        ("before the first model", c.no_model_yet),
        ("superseded", c.superseded),
        ("failed", c.prediction_failures),
        ("in flight", c.in_flight),
    ]
    rare = [("rejected", c.rejected), ("gave up", c.gave_up), ("unanswered", c.unanswered)]
    return parts + [(label, n) for label, n in rare if n]


def _seconds(value: float | None, what: str = "") -> str:
    return "-" if value is None else f"{value:.1f} s{what}"


def _print_summary(result: dict[str, Any], path: Path) -> None:
    t = result["timings_s"]
    a = result["accuracy"]
    c = result["counts"]

    def acc(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    rows = [
        ("drift onset", _seconds(t["drift_onset_at"], " into the run")),
        ("onset → detection", _seconds(t["onset_to_detection"])),
        ("onset → candidate registered", _seconds(t["onset_to_candidate"])),
        ("onset → verdict", _seconds(t["onset_to_verdict"])),
        ("onset → promotion", _seconds(t["onset_to_promotion"])),
        ("verdict", result["verdict"] or "none (see below)"),
        ("evidence", result["verdict_evidence"] or "-"),
        (
            "accuracy before → after drift → recovered",
            f"{acc(a['before_drift'])} → {acc(a['right_after_drift'])} → "
            f"{acc(a['after_recovery'])}",
        ),
        ("retrains after onset", str(result["retrains_after_onset"])),
        ("records sent", f"{c['sent']} = " + " + ".join(f"{k} {n}" for k, n in _parts_of(c))),
    ]
    caption = f"report: {path}"
    if result["unfinished"]:
        caption = f"{result['unfinished']}\n{caption}"
    print_table(("", "value"), rows, title="driftloop demo summary", caption=caption)


def _parts_of(counts: dict[str, Any]) -> list[tuple[str, int]]:
    from driftloop_cli.demo.run import Counters

    fields = {k: v for k, v in counts.items() if k in Counters.__dataclass_fields__}
    return _parts(Counters(**fields))
