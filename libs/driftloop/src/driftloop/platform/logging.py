"""structlog set-up: JSON lines (or console on a TTY) with the service name,
and the event id / request id bound per handled event or call through
``structlog.contextvars``."""

from __future__ import annotations

import logging
import sys
from typing import TextIO, cast

import structlog

from driftloop.platform.settings import LogSettings


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when a line is written, not when logging was
    set up: a caller that swaps stderr for a while (a CLI runner, a test)
    must not leave loggers writing to a stream it has since closed."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(service: str, settings: LogSettings) -> None:
    """Route structlog and stdlib logging to stderr in one format."""
    use_console = settings.format == "console" or (
        settings.format == "auto" and sys.stderr.isatty()
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer() if use_console else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[settings.level]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=cast(TextIO, _CurrentStderr())),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)
    # Libraries (aiokafka, faststream, grpc) log through stdlib: keep them quiet
    # unless something is wrong.
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(name)s %(message)s")
