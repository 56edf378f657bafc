"""The ``driftloop`` command: run the embedded platform, check it, read its
events and models, validate specs, run the demo.

Each command lives in its own module and imports what it needs only when it
runs (a test holds the import budget), so every command but `demo` starts in
well under a second."""

from __future__ import annotations

import typer

from driftloop_cli.commands.apply import apply
from driftloop_cli.commands.down import down
from driftloop_cli.commands.events import events_app
from driftloop_cli.commands.status import status
from driftloop_cli.commands.topics import topics_app
from driftloop_cli.commands.up import up
from driftloop_cli.demo.command import demo
from driftloop_cli.models import models_app

app = typer.Typer(
    help="driftloop: an event-driven MLOps platform. Producer apps stream records in, "
    "features are computed as they flow, models are trained, registered, served over "
    "gRPC and watched; drift triggers retraining and a canary that is promoted or rolled "
    "back on live evidence.\n\n"
    "Settings come from DRIFTLOOP_* environment variables. A running platform is found "
    "through the run file that `up` writes in the data directory (--data-dir, else "
    "DRIFTLOOP_DATA_DIR, else ./var): a second terminal in the same folder needs no "
    "variables.",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(up)
app.command()(down)
app.command()(status)
app.command()(apply)
app.command()(demo)
app.add_typer(events_app, name="events")
app.add_typer(models_app, name="models")
app.add_typer(topics_app, name="topics")


@app.callback()
def _quiet_libraries() -> None:
    # The CLI speaks through rich; library logs go to stderr and only when
    # something is wrong, so stdout stays parseable (structlog is set up with
    # the settings, in discovery.settings).
    import logging

    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


def main() -> None:
    app()
