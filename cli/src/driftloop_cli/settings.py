"""What every CLI command reads first: the platform settings (from DRIFTLOOP_*
variables) and the bundled demo spec."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from driftloop.platform.settings import ServiceSettings, SettingsError, load_settings

#: The spec `driftloop up` and `driftloop demo` run when given none.
DEMO_SPEC = Path(__file__).parent / "specs" / "demo.yaml"

_console = Console(stderr=True)


def cli_settings() -> ServiceSettings:
    """The settings; a bad DRIFTLOOP_* value is printed and exits with code 2."""
    try:
        return load_settings(ServiceSettings)
    except SettingsError as exc:
        _console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
