"""How the CLI speaks: summaries and listings on stdout, progress and errors
on stderr; tables that wrap on a terminal and a plain layout in a pipe; and
human words for the platform's enums and numbers."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

#: Progress, warnings and errors.
err = Console(stderr=True, highlight=False, soft_wrap=not sys.stderr.isatty())

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def out() -> Console:
    """The stdout console, made per call so that the terminal width (COLUMNS)
    is read when a command runs."""
    return Console(highlight=False)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one red line (or a few) on stderr and exit with ``code``."""
    err.print(f"[red]{escape(message)}[/red]")
    raise typer.Exit(code)


def escape(text: str) -> str:
    """Text shown as is: no rich markup, no terminal colour codes."""
    from rich.markup import escape as rich_escape

    return rich_escape(strip_ansi(text))


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def print_json(value: Any) -> None:
    print(json.dumps(value, default=str, indent=2))


def print_table(
    columns: Sequence[str], rows: Sequence[Sequence[str]], *, title: str = "", caption: str = ""
) -> None:
    """A table on a terminal (cells wrap, nothing is cut); in a pipe one line
    per row, cells separated by tabs, multi-line cells joined with ", "."""
    if not sys.stdout.isatty():
        if title:
            print(f"# {title}")
        print("\t".join(columns))
        for row in rows:
            print("\t".join(", ".join(str(c).splitlines()) for c in row))
        if caption:
            print(f"# {caption}")
        return
    table = Table(title=title or None, caption=caption or None)
    for name in columns:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*(escape(str(c)) for c in row))
    out().print(table)


#: Prefixes of the platform's protobuf enum names (proto/driftloop/*/v1).
_ENUM_PREFIXES = (
    "VERDICT_",
    "DRIFT_KIND_",
    "TRIGGER_",
    "RUN_STATE_",
    "MODEL_ROLE_",
    "TASK_KIND_",
    "TRAFFIC_MODE_",
    "REJECT_REASON_",
)


def enum_word(value: object) -> str:
    """``VERDICT_PROMOTE`` → ``promote``; ``DRIFT_KIND_CONCEPT`` → ``concept``.

    >>> enum_word("VERDICT_PROMOTE"), enum_word("DRIFT_KIND_CONCEPT"), enum_word("")
    ('promote', 'concept', 'none')
    """
    text = str(value or "")
    for prefix in _ENUM_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    return text.lower().replace("_", " ") or "none"


def p_value(p: float) -> str:
    """A p-value a person can read.

    >>> p_value(9.09e-302), p_value(0.0312), p_value(0.5)
    ('p < 0.0001', 'p = 0.031', 'p = 0.5')
    """
    return "p < 0.0001" if p < 1e-4 else f"p = {p:.2g}"


def version_word(version: object) -> str:
    """Alias targets: 0 means no version, not a "v0".

    >>> version_word(3), version_word(0), version_word("")
    ('v3', 'none', 'none')
    """
    try:
        number = int(str(version or 0))
    except (TypeError, ValueError):
        return str(version)
    return f"v{number}" if number else "none"
