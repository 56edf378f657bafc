"""Settings of the serving service (environment variables prefixed ``DRIFTLOOP_``)."""

from __future__ import annotations

from driftloop.platform.settings import ServiceSettings


class ServingSettings(ServiceSettings):
    """Everything the serving service can be configured with."""
