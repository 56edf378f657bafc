"""Readiness checks on a real loopback gRPC server: NOT_SERVING until every
check passes, NOT_SERVING again when one fails, liveness untouched; the
Kafka probe against the real test broker and against a port nobody answers."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from driftloop.platform.grpc_client import channel
from driftloop.platform.grpc_server import READY, GrpcServer
from driftloop.platform.readiness import KafkaProbe, passes, watch
from driftloop.platform.settings import GrpcSettings, KafkaSettings
from driftloop.platform.testing import free_port, wait_for

SERVING = health_pb2.HealthCheckResponse.SERVING


async def test_readiness_follows_the_checks_and_liveness_does_not():
    server = GrpcServer(GrpcSettings(port=free_port()), 0)
    await server.start()
    there = {"database": False, "store": True}

    async def database() -> bool:
        return there["database"]

    async def store() -> bool:
        if not there["store"]:
            raise ConnectionError("store away")
        return True

    await server.set_live(True)
    task = asyncio.create_task(
        watch({"database": database, "store": store}, server.set_ready, 0.05)
    )
    try:
        async with channel(f"127.0.0.1:{server.port}") as ch:
            health = health_pb2_grpc.HealthStub(ch)

            async def status(service: str) -> int:
                reply = await health.Check(health_pb2.HealthCheckRequest(service=service))
                return reply.status

            async def ready_is(expected: bool) -> bool:
                return (await status(READY) == SERVING) is expected

            await asyncio.sleep(0.3)  # several rounds: the database is not there yet
            assert await status(READY) != SERVING
            assert await status("") == SERVING
            there["database"] = True
            await wait_for(lambda: ready_is(True), timeout_s=30)
            there["store"] = False  # lost: a check that raises fails too
            await wait_for(lambda: ready_is(False), timeout_s=30)
            assert await status("") == SERVING
            there["store"] = True
            await wait_for(lambda: ready_is(True), timeout_s=30)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await server.stop()


async def test_a_check_that_hangs_fails_within_its_time():
    async def hangs() -> bool:
        await asyncio.sleep(60)
        return True

    assert not await passes(hangs, 0.1)


@pytest.mark.integration
async def test_kafka_probe_answers_for_the_broker_and_not_for_a_dead_port(kafka):
    probe = KafkaProbe(kafka, timeout_s=30)
    nobody = KafkaProbe(KafkaSettings(bootstrap=f"127.0.0.1:{free_port()}"), timeout_s=2)
    try:
        assert await passes(probe, 30)
        assert await passes(probe, 30)  # the same client, another round trip
        assert not await passes(nobody, 5)
    finally:
        await probe.close()
        await nobody.close()
