"""A traffic-split pin is platform-wide: pinned through one replica's admin
API, it is published on ``driftloop.rollouts``, so a replica started later
recovers it before it reports ready and routes with it from its first
request; clearing it on the first replica reaches the second. Real
processes, real broker, a fake registry on real gRPC."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest

from driftloop.platform.grpc_server import READY
from driftloop.platform.testing import ServiceProcess, free_port, unique, wait_for
from driftloop.serving.v1 import admin_service_pb2 as admin_pb
from driftloop.serving.v1 import admin_service_pb2_grpc
from inference import grpc_predict_v2_pb2_grpc as pb_grpc
from services.serving.tests.integration.test_rollout_recovery import request

pytestmark = pytest.mark.integration


class Replica:
    """One serving process and its two stubs."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = int(env["DRIFTLOOP_GRPC_PORT"])
        self.address = f"127.0.0.1:{self.port}"
        self.proc = ServiceProcess("driftloop_serving", env, log).start()
        self.channel = grpc.aio.insecure_channel(self.address)
        self.oip = pb_grpc.GRPCInferenceServiceStub(self.channel)
        self.admin = admin_service_pb2_grpc.ServingAdminServiceStub(self.channel)

    async def ready(self) -> None:
        await asyncio.to_thread(self.proc.wait_healthy, self.address, 600, READY)

    async def state(self, model: str) -> admin_pb.RolloutState:
        return await self.admin.GetRolloutState(admin_pb.GetRolloutStateRequest(model=model))

    async def versions(self, model: str, ids: range) -> set[str]:
        return {(await self.oip.ModelInfer(request(model, i))).model_version for i in ids}

    async def stop(self) -> int:
        await self.channel.close()
        return self.proc.terminate()


@pytest.mark.timeout(1500)  # two processes on a loaded 2-core machine
async def test_a_pin_reaches_a_replica_started_later_and_its_clear_too(
    tmp_path: Path, artifacts, fake_registry, serving_env
):
    model = unique("m")
    fake = fake_registry[0]
    fake.add(model, 1, artifacts["v1"])
    fake.add(model, 2, artifacts["v2"])
    fake.aliases[model] = {"champion": 1, "candidate": 2}

    def env(port: int) -> dict[str, str]:
        # No candidate traffic unless pinned: every answer names its cause.
        return {**serving_env(port), "DRIFTLOOP_DEFAULT_CANDIDATE_SHARE": "0"}

    replicas: list[Replica] = []
    try:
        a = Replica(env(free_port()), tmp_path / "a.log")
        replicas.append(a)
        await a.ready()
        assert await a.versions(model, range(20)) == {"1"}
        pinned = await a.admin.PinTrafficSplit(
            admin_pb.PinTrafficSplitRequest(
                model=model, candidate_share=1.0, mode=admin_pb.TRAFFIC_MODE_CANARY
            )
        )
        # The caller's replica answers with the pin at once.
        assert pinned.pinned and pinned.candidate_share == 1.0
        assert await a.versions(model, range(20, 40)) == {"2"}

        b = Replica(env(free_port()), tmp_path / "b.log")
        replicas.append(b)
        await b.ready()
        # Recovered before ready: the first requests already follow the pin.
        assert await b.versions(model, range(40, 90)) == {"2"}
        state = await b.state(model)
        assert (state.pinned, state.candidate_share, state.mode) == (
            True,
            1.0,
            admin_pb.TRAFFIC_MODE_CANARY,
        )

        cleared = await a.admin.ClearTrafficSplit(admin_pb.ClearTrafficSplitRequest(model=model))
        assert not cleared.pinned and cleared.candidate_share == 0.0

        async def b_unpinned() -> bool:
            return not (await b.state(model)).pinned

        await wait_for(b_unpinned, timeout_s=120, interval_s=0.2)
        assert (await b.state(model)).candidate_share == 0.0
        assert await b.versions(model, range(90, 140)) == {"1"}
        assert await a.versions(model, range(140, 160)) == {"1"}
    finally:
        codes = [await r.stop() for r in replicas]
    assert codes == [0] * len(codes), [r.proc.tail() for r in replicas]
