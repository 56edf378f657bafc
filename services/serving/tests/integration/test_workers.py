"""DRIFTLOOP_SERVING_WORKERS=2: two serving processes on one port, each
applying every model and rollout change, routing alike, both answering, and
stopping cleanly with their supervisor."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path

import grpc
import pytest

from driftloop.common.v1 import common_pb2
from driftloop.monitoring.v1.events_pb2 import RolloutStarted
from driftloop.platform.bus import EventBus, make_broker
from driftloop.platform.testing import ServiceProcess, free_port_block, unique, wait_for
from driftloop.registry.v1.events_pb2 import AliasChanged
from driftloop.serving.v1 import admin_service_pb2, admin_service_pb2_grpc
from inference import grpc_predict_v2_pb2 as pb
from inference import grpc_predict_v2_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration
WIDTH = 20
CHANNELS = 16


def request(model: str, rid: str) -> pb.ModelInferRequest:
    req = pb.ModelInferRequest(model_name=model, id=rid)
    req.inputs.add(name="input", datatype="FP32", shape=[1, WIDTH]).contents.fp32_contents.extend(
        [0.5] * WIDTH
    )
    return req


def published(metrics_port: int) -> float:
    name = "driftloop_serving_prediction_events_published_total"
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return 0.0


async def test_two_workers_share_a_port_and_every_change(
    kafka, tmp_path: Path, artifacts, fake_registry
):
    model = unique("wm")
    fake, registry_address = fake_registry
    fake.add(model, 1, artifacts["v1"])
    v2 = fake.add(model, 2, artifacts["v2"])
    fake.aliases[model] = {"champion": 1}
    base = free_port_block(20)
    port, metrics = base, base + 5
    proc = ServiceProcess(
        "driftloop_serving",
        {
            "DRIFTLOOP_SERVING_WORKERS": "2",
            "DRIFTLOOP_KAFKA_BOOTSTRAP": kafka.servers,
            "DRIFTLOOP_GRPC_PORT": str(port),
            "DRIFTLOOP_METRICS_PORT": str(metrics),
            "DRIFTLOOP_DATA_DIR": str(tmp_path),
            "DRIFTLOOP_SERVICE_ADDRESSES": json.dumps({"registry": registry_address}),
            "DRIFTLOOP_INSTANCE_ID": unique("i"),
            "DRIFTLOOP_STREAM_SCORING": "false",
            "DRIFTLOOP_RECONCILE_INTERVAL_S": "600",
            "DRIFTLOOP_LOG_FORMAT": "json",
        },
        tmp_path / "serving.log",
    )
    broker = make_broker(kafka, "workers-test")
    bus = EventBus(broker, "test", kafka)
    await broker.start()
    proc.start()
    # Separate channels are separate connections, which the kernel spreads
    # over the workers (all 16 on one worker: probability 2**-15).
    channels = [
        grpc.aio.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)]
        )
        for _ in range(CHANNELS)
    ]
    oips = [pb_grpc.GRPCInferenceServiceStub(ch) for ch in channels]
    admins = [admin_service_pb2_grpc.ServingAdminServiceStub(ch) for ch in channels]
    try:
        await asyncio.to_thread(proc.wait_healthy, f"127.0.0.1:{port}", 90)

        async def all_in(check) -> bool:
            try:
                return all(await asyncio.gather(*(check(a) for a in admins)))
            except grpc.aio.AioRpcError:
                return False

        async def loaded(admin, versions, share=None) -> bool:
            state = await admin.GetRolloutState(
                admin_service_pb2.GetRolloutStateRequest(model=model)
            )
            return list(state.loaded_versions) == versions and (
                share is None or state.candidate_share == share
            )

        await wait_for(lambda: all_in(lambda a: loaded(a, [1])), timeout_s=60)
        # Change events published once reach every worker (own groups each);
        # until both have joined, keep re-publishing (idempotent changes).
        candidate = AliasChanged(
            meta=bus.meta(), model=model, alias="candidate", version=2, model_version=v2
        )
        rollout = RolloutStarted(
            meta=bus.meta(),
            rollout_id="ro",
            model=model,
            candidate=common_pb2.ModelRef(name=model, version=2),
            candidate_share=0.5,
        )

        async def changed() -> bool:
            await bus.publish(candidate, key=model)
            await bus.publish(rollout, key=model)
            return await all_in(lambda a: loaded(a, [1, 2], 0.5))

        await wait_for(changed, timeout_s=90, interval_s=2.0)

        # The same request id gets the same version whichever worker answers.
        versions: dict[str, set[str]] = {}
        for i in range(64):
            rid = f"{model}-r{i}"
            for oip in (oips[i % CHANNELS], oips[(i + 7) % CHANNELS]):
                reply = await oip.ModelInfer(request(model, rid))
                versions.setdefault(rid, set()).add(reply.model_version)
        assert all(len(v) == 1 for v in versions.values())
        assert set().union(*versions.values()) == {"1", "2"}
        # Both workers answered: each published prediction events.
        await wait_for(lambda: published(metrics) + published(metrics + 10) == 128, timeout_s=30)
        assert published(metrics) > 0 and published(metrics + 10) > 0
    finally:
        for ch in channels:
            await ch.close()
        await broker.stop()
        code = proc.terminate()
    assert code == 0, proc.tail()
