"""`driftloop down`: stop a platform started in another terminal."""

from __future__ import annotations

import os
import signal
import time
from typing import Annotated

import typer

from driftloop_cli import discovery
from driftloop_cli.discovery import DataDir
from driftloop_cli.ui import err, fail


def down(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the stop.")] = 60.0,
    data_dir: DataDir = None,
) -> None:
    """Stop the platform that `driftloop up` (or `driftloop demo`) runs with
    this data directory, and wait until every process has exited."""
    found = discovery.find(data_dir)
    if found.state is None:
        print(f"driftloop is not running (no run file under {found.settings.data_dir}).")
        return
    pid = found.state.up_pid
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    with err.status(f"stopping driftloop (pid {pid})…"):
        while found.state.running():
            if time.monotonic() > deadline:
                fail(f"still running after {timeout:.0f} s (pid {pid}); `kill -9 {pid}` ends it")
            time.sleep(0.2)
    print("driftloop stopped.")
