"""Settings of the registry service (environment variables prefixed ``DRIFTLOOP_``)."""

from __future__ import annotations

from driftloop.platform.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    """Everything the registry service can be configured with."""
