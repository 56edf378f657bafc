"""Settings of the feature service (environment variables prefixed ``DRIFTLOOP_``)."""

from __future__ import annotations

from driftloop.platform.settings import ServiceSettings


class FeatureSettings(ServiceSettings):
    """Everything the feature service can be configured with."""
