"""Ingestion readiness means its broker answers (a record is accepted only
once published): ready, and NOT_SERVING (still live) once the broker is gone.
Real process, a broker of the test's own."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from driftloop.platform.settings import KafkaSettings
from driftloop.platform.testing import (
    ServiceProcess,
    broker_kind,
    free_port,
    kafka_env,
    readiness_follows,
    start_local_broker,
)

pytestmark = pytest.mark.integration


@pytest.mark.timeout(900)
async def test_ingestion_is_not_ready_once_its_broker_is_gone(tmp_path: Path):
    kafka = KafkaSettings(embedded=broker_kind(), embedded_port=free_port())
    broker = await asyncio.to_thread(start_local_broker, kafka, tmp_path / "broker")
    port = free_port()
    proc = ServiceProcess(
        "driftloop_ingestion",
        {
            **kafka_env(kafka),
            "DRIFTLOOP_GRPC_PORT": str(port),
            "DRIFTLOOP_METRICS_ENABLED": "false",
            "DRIFTLOOP_DATA_DIR": str(tmp_path / "data"),
            "DRIFTLOOP_READINESS_INTERVAL_S": "0.5",
            "DRIFTLOOP_LOG_FORMAT": "json",
        },
        tmp_path / "ingestion.log",
    )
    try:
        proc.start()
        await readiness_follows(f"127.0.0.1:{port}", broker.stop)
    finally:
        if proc.proc is not None:
            proc.kill()
        broker.stop()
