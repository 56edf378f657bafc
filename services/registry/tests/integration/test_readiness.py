"""Registry readiness means its database answers: a PostgreSQL-backed registry
is ready, and NOT_SERVING (still live) once its database is gone. Real
process, real broker, a PostgreSQL server of the test's own."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from driftloop.platform import backends
from driftloop.platform.testing import (
    ServiceProcess,
    free_port,
    kafka_env,
    readiness_follows,
    unique,
)

pytestmark = pytest.mark.integration


@pytest.mark.timeout(900)
async def test_registry_is_not_ready_once_its_database_is_gone(kafka, tmp_path: Path):
    database = contextlib.ExitStack()
    try:
        url = database.enter_context(backends.postgres())
    except backends.ServerUnavailable as e:
        pytest.fail(str(e), pytrace=False)
    port = free_port()
    proc = ServiceProcess(
        "driftloop_registry",
        {
            **kafka_env(kafka),
            "DRIFTLOOP_GRPC_PORT": str(port),
            "DRIFTLOOP_METRICS_ENABLED": "false",
            "DRIFTLOOP_DATA_DIR": str(tmp_path / "data"),
            "DRIFTLOOP_DATABASE_URL": url,
            "DRIFTLOOP_ROLLOUTS_GROUP": unique("registry"),
            "DRIFTLOOP_READINESS_INTERVAL_S": "0.5",
            "DRIFTLOOP_LOG_FORMAT": "json",
        },
        tmp_path / "registry.log",
    ).start()
    try:
        await readiness_follows(f"127.0.0.1:{port}", database.close)
    finally:
        proc.terminate()
        database.close()
