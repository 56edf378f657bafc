"""The one rule by which every command finds a running platform.

1. The data directory is ``--data-dir``, else ``DRIFTLOOP_DATA_DIR``, else
   ``./var`` (relative to where the command runs).
2. If ``<data dir>/run/platform.json`` names a `driftloop up` (or `driftloop
   demo`) that is still running, its Kafka address and port offset are used:
   a second terminal needs no variables at all.
3. Otherwise the ``DRIFTLOOP_*`` settings are used as they are
   (``DRIFTLOOP_KAFKA_BOOTSTRAP``, ``DRIFTLOOP_PORT_OFFSET``,
   ``DRIFTLOOP_SERVICE_ADDRESSES``): a platform started some other way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from driftloop_cli.state import RunState
from driftloop_cli.ui import fail

if TYPE_CHECKING:
    from driftloop.platform.settings import ServiceSettings

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Where the platform keeps its state, logs and run file "
        "(default: DRIFTLOOP_DATA_DIR, else ./var).",
        show_default=False,
    ),
]


@dataclass(frozen=True)
class Found:
    """The settings to reach the platform, and its run state if one is running."""

    settings: ServiceSettings
    state: RunState | None

    @property
    def where(self) -> str:
        """How the platform was found, for messages."""
        if self.state is not None:
            return f"the platform of `driftloop up` (pid {self.state.up_pid})"
        return "DRIFTLOOP_* settings (no `driftloop up` running under " + (
            f"{self.settings.data_dir})"
        )


def settings(data_dir: Path | None = None) -> ServiceSettings:
    """The DRIFTLOOP_* settings (``data_dir`` overriding), or exit 2 naming
    each bad variable."""
    from driftloop.platform.logging import configure_logging
    from driftloop.platform.settings import (
        LogSettings,
        ServiceSettings,
        SettingsError,
        load_settings,
    )

    configure_logging("cli", LogSettings(level="WARNING", format="console"))
    try:
        loaded = load_settings(ServiceSettings)
    except SettingsError as exc:
        fail(str(exc), 2)
    if data_dir is not None:
        loaded = loaded.model_copy(update={"data_dir": data_dir})
    return loaded


def find(data_dir: Path | None = None) -> Found:
    """Apply the rule above."""
    base = settings(data_dir)
    state = RunState.read(base.data_dir)
    if state is None or not state.running():
        return Found(base, None)
    kafka = base.kafka.model_copy(update={"bootstrap": state.kafka})
    return Found(base.model_copy(update={"port_offset": state.port_offset, "kafka": kafka}), state)
