"""The Prometheus endpoint every service serves on its own port."""

from __future__ import annotations

from typing import Any

import structlog
from prometheus_client import start_http_server

from driftloop.platform.settings import MetricsSettings

log = structlog.get_logger(__name__)


class MetricsEndpoint:
    """Serves ``/metrics`` from the default registry in a background thread."""

    def __init__(self, settings: MetricsSettings, default_port: int) -> None:
        self.settings = settings
        self.port = settings.port or default_port
        self._server: Any = None
        self._thread: Any = None

    def start(self) -> None:
        if not self.settings.enabled:
            return
        self._server, self._thread = start_http_server(self.port, addr=self.settings.host)
        self.port = self._server.server_port
        log.info("metrics.started", port=self.port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
