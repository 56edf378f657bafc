"""`driftloop events`: the event topics, and any topic as JSON lines."""

from __future__ import annotations

from typing import Annotated

import typer

from driftloop_cli import discovery
from driftloop_cli.discovery import DataDir
from driftloop_cli.ui import JsonFlag, err, fail, print_json, print_table

events_app = typer.Typer(help="Read the platform's event topics.", no_args_is_help=True)


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
    data_dir: DataDir = None,
) -> None:
    """Print events as JSON lines (stdout) with their CloudEvents headers;
    what it waits for goes to stderr."""
    import asyncio

    from driftloop.platform.topics import by_name
    from driftloop_cli.tail import BrokerUnreachable, tail, to_line

    found = discovery.find(data_dir)
    try:
        name = by_name(topic).name
    except KeyError as exc:
        fail(str(exc.args[0]), 2)
    servers = found.settings.kafka.servers
    start = "the oldest event" if from_beginning else "new events"
    err.print(f"[dim]reading {name} at {servers} from {start}; Ctrl-C stops[/dim]")

    async def run() -> None:
        count = 0
        async for item in tail(
            found.settings.kafka, name, from_beginning=from_beginning, idle_timeout_s=idle_timeout
        ):
            print(to_line(item), flush=True)
            count += 1
            if max_events is not None and count >= max_events:
                return

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    except BrokerUnreachable as exc:
        fail(f"{exc} (found through {found.where})")


@events_app.command("topics")
def events_topics(json_output: JsonFlag = False) -> None:
    """List the topics, their keys and the events they carry."""
    from driftloop.platform.topics import ALL

    if json_output:
        print_json([{"topic": t.name, "key": t.key, "events": list(t.carries)} for t in ALL])
        return
    print_table(
        ("topic", "key", "events"),
        [(t.name, t.key, "\n".join(t.carries)) for t in ALL],
        title="driftloop topics",
    )
