"""Settings of the training service (environment variables prefixed ``DRIFTLOOP_``)."""

from __future__ import annotations

from driftloop.platform.settings import ServiceSettings


class TrainingSettings(ServiceSettings):
    """Everything the training service can be configured with."""
