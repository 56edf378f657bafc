"""Settings of the ingestion service (environment variables prefixed ``DRIFTLOOP_``)."""

from __future__ import annotations

from driftloop.platform.settings import ServiceSettings


class IngestionSettings(ServiceSettings):
    """Everything the ingestion service can be configured with."""
