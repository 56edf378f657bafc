"""`driftloop apply`: validate a spec."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from driftloop_cli.ui import err, escape, fail


def apply(spec: Annotated[Path, typer.Argument(help="The spec file to validate.")]) -> None:
    """Validate a spec: every problem at once, each named by path and line,
    with the value that is wrong. Exit 1 when it is invalid, 2 when unreadable."""
    from driftloop.platform.spec import SpecError, load_spec

    try:
        parsed = load_spec(spec)
    except OSError as exc:
        fail(f"cannot read {spec}: {exc.strerror or exc}", 2)
    except SpecError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(1) from None
    print(
        f"{spec} is valid: {len(parsed.streams)} stream(s), "
        f"{len(parsed.feature_views)} feature view(s), {len(parsed.models)} model(s)"
    )
