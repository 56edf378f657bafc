"""A serving replica started mid-rollout recovers the rollout in force (share
and mode) before it reports ready, and answers with it from its first
request — not with the default split. Later rollout events still apply.
Real process, real broker, a fake registry on real gRPC."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest

from driftloop.common.v1 import common_pb2
from driftloop.monitoring.v1.events_pb2 import RolloutCompleted, RolloutStarted, RolloutStepped
from driftloop.platform.bus import EventBus, make_broker
from driftloop.platform.grpc_server import READY
from driftloop.platform.testing import ServiceProcess, free_port, unique, wait_for
from driftloop.serving.v1 import admin_service_pb2 as admin_pb
from driftloop.serving.v1 import admin_service_pb2_grpc
from inference import grpc_predict_v2_pb2 as pb
from inference import grpc_predict_v2_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration
WIDTH = 20


def request(model: str, i: int) -> pb.ModelInferRequest:
    req = pb.ModelInferRequest(model_name=model, id=f"{model}-{i}")
    req.inputs.add(name="input", datatype="FP32", shape=[1, WIDTH]).contents.fp32_contents.extend(
        [0.5] * WIDTH
    )
    return req


@pytest.mark.timeout(1200)  # a loaded 2-core machine takes minutes to start a process
async def test_a_replica_started_mid_rollout_routes_with_its_share_and_mode(
    kafka, tmp_path: Path, artifacts, fake_registry, serving_env
):
    model = unique("m")
    fake = fake_registry[0]
    fake.add(model, 1, artifacts["v1"])
    fake.add(model, 2, artifacts["v2"])
    fake.add(model, 3, artifacts["v1"])
    fake.aliases[model] = {"champion": 1, "candidate": 2}
    ref = common_pb2.ModelRef
    broker = make_broker(kafka, "rollout-recovery-test")
    bus = EventBus(broker, "test", kafka)
    await broker.start()
    # An earlier rollout, over; then the current one: shadow first, then
    # canary with all traffic (shadow_then_canary) — the default is 10 %.
    history = [
        RolloutStarted(
            model=model, rollout_id="ro-0", candidate=ref(name=model, version=3),
            mode=admin_pb.TRAFFIC_MODE_SHADOW, candidate_share=0.0,
        ),
        RolloutCompleted(model=model, rollout_id="ro-0"),
        RolloutStarted(
            model=model, rollout_id="ro-1", candidate=ref(name=model, version=2),
            mode=admin_pb.TRAFFIC_MODE_SHADOW, candidate_share=0.0,
        ),
        RolloutStepped(
            model=model, rollout_id="ro-1", candidate=ref(name=model, version=2),
            mode=admin_pb.TRAFFIC_MODE_CANARY, candidate_share=1.0,
        ),
    ]  # fmt: skip
    for event in history:
        event.meta.CopyFrom(bus.meta())
        await bus.publish(event, key=model)
    port = free_port()
    proc = ServiceProcess(
        "driftloop_serving",
        serving_env(port),
        tmp_path / "serving.log",
    ).start()
    address = f"127.0.0.1:{port}"
    ch = grpc.aio.insecure_channel(address)
    oip, admin = (
        pb_grpc.GRPCInferenceServiceStub(ch),
        admin_service_pb2_grpc.ServingAdminServiceStub(ch),
    )
    try:
        await asyncio.to_thread(proc.wait_healthy, address, 600, READY)
        # From the first request on: every one to the candidate, as the
        # rollout's 100 % canary says (the default would send ~10 %).
        replies = [await oip.ModelInfer(request(model, i)) for i in range(100)]
        assert {(r.model_version, r.parameters["role"].string_param) for r in replies} == {
            ("2", "candidate")
        }
        state = await admin.GetRolloutState(admin_pb.GetRolloutStateRequest(model=model))
        assert (state.rollout_id, state.candidate_share, state.mode) == (
            "ro-1",
            1.0,
            admin_pb.TRAFFIC_MODE_CANARY,
        )
        # A step published now, after the recovered state, still applies.
        step = RolloutStepped(meta=bus.meta(), model=model, rollout_id="ro-1", candidate_share=0.0)
        await bus.publish(step, key=model)

        async def stepped() -> bool:
            reply = await admin.GetRolloutState(admin_pb.GetRolloutStateRequest(model=model))
            return reply.candidate_share == 0.0

        await wait_for(stepped, timeout_s=120, interval_s=0.2)
        replies = [await oip.ModelInfer(request(model, i)) for i in range(100, 150)]
        assert {r.model_version for r in replies} == {"1"}
    finally:
        await ch.close()
        await broker.stop()
        code = proc.terminate()
    assert code == 0, proc.tail()
