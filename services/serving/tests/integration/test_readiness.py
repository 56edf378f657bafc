"""Readiness means able to answer: a serving process is live at once, but
ready (health `driftloop.ready` and the OIP service name) only once the
champion the registry names is loaded. Real process, real broker, a fake
registry on real gRPC whose downloads are held back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from driftloop.platform.testing import ServiceProcess, free_port, unique, wait_for
from inference import grpc_predict_v2_pb2 as pb
from inference import grpc_predict_v2_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration
SERVING = health_pb2.HealthCheckResponse.SERVING


@pytest.mark.timeout(1200)  # a loaded 2-core machine takes minutes to start a process
async def test_serving_is_not_ready_until_the_champion_is_loaded(
    kafka, tmp_path: Path, artifacts, fake_registry, serving_env
):
    model = unique("m")
    fake = fake_registry[0]
    fake.add(model, 1, artifacts["v1"])
    fake.aliases[model] = {"champion": 1}
    fake.gate = asyncio.Event()  # downloads wait until the test lets them go
    port = free_port()
    proc = ServiceProcess(
        "driftloop_serving",
        serving_env(port),
        tmp_path / "serving.log",
    ).start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
            health = health_pb2_grpc.HealthStub(ch)

            async def status(service: str) -> int:
                try:
                    reply = await health.Check(
                        health_pb2.HealthCheckRequest(service=service), timeout=5
                    )
                except grpc.aio.AioRpcError:
                    return -1
                return reply.status

            async def live() -> bool:
                return await status("") == SERVING

            await wait_for(live, timeout_s=600, interval_s=0.2)
            # Live, and the download has begun: not ready while it is held.
            await wait_for(lambda: fake.requested >= 1, timeout_s=600, interval_s=0.2)
            for _ in range(5):
                assert await status("driftloop.ready") != SERVING
                assert await status("inference.GRPCInferenceService") != SERVING
                await asyncio.sleep(0.2)
            fake.gate.set()

            async def ready() -> bool:
                return await status("driftloop.ready") == SERVING

            await wait_for(ready, timeout_s=300, interval_s=0.2)
            assert await status("inference.GRPCInferenceService") == SERVING
            # Ready means able to answer.
            reply = await pb_grpc.GRPCInferenceServiceStub(ch).ModelReady(
                pb.ModelReadyRequest(name=model), timeout=10
            )
            assert reply.ready
            assert fake.downloads == 1
    finally:
        if proc.proc is not None and proc.proc.poll() is None:
            assert proc.terminate() == 0, proc.tail()
