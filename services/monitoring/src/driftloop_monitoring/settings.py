"""Settings of the monitoring service (environment variables prefixed ``DRIFTLOOP_``)."""

from __future__ import annotations

from driftloop.platform.settings import ServiceSettings


class MonitoringSettings(ServiceSettings):
    """Everything the monitoring service can be configured with."""
