"""Serving with the real registry process: versions registered and aliased
through the registry API load at start-up and on its AliasChanged events."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import grpc
import pytest

from driftloop.common.v1 import common_pb2
from driftloop.platform.testing import (
    ServiceProcess,
    agen,
    free_port,
    kafka_env,
    stable_members,
    unique,
    wait_for,
)
from driftloop.registry.v1 import registry_service_pb2 as reg
from driftloop.registry.v1 import registry_service_pb2_grpc as reg_grpc
from driftloop.serving.v1 import admin_service_pb2 as admin_pb
from driftloop.serving.v1 import admin_service_pb2_grpc as admin_grpc
from inference import grpc_predict_v2_pb2 as pb
from inference import grpc_predict_v2_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration
WIDTH = 20


async def stable(kafka, group: str) -> bool:
    return await stable_members(kafka, group) > 0


def infer(model: str, i: int) -> pb.ModelInferRequest:
    req = pb.ModelInferRequest(model_name=model, id=f"{model}-{i}")
    req.inputs.add(name="input", datatype="FP32", shape=[1, WIDTH]).contents.fp32_contents.extend(
        [0.1 * (i % 5)] * WIDTH
    )
    return req


async def test_serving_follows_the_real_registry(kafka, tmp_path: Path, artifacts):
    model, instance = unique("m"), unique("i")
    reg_port, port = free_port(), free_port()
    registry = ServiceProcess(
        "driftloop_registry",
        {
            **kafka_env(kafka),
            "DRIFTLOOP_GRPC_PORT": str(reg_port),
            "DRIFTLOOP_METRICS_ENABLED": "false",
            "DRIFTLOOP_DATA_DIR": str(tmp_path / "registry"),
            "DRIFTLOOP_OUTBOX_POLL_S": "0.2",
            "DRIFTLOOP_ROLLOUTS_GROUP": unique("registry"),
            "DRIFTLOOP_LOG_FORMAT": "json",
        },
        tmp_path / "registry.log",
    ).start()
    serving = None
    reg_ch = grpc.aio.insecure_channel(f"127.0.0.1:{reg_port}")
    ch = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        await asyncio.to_thread(registry.wait_healthy, f"127.0.0.1:{reg_port}", 60)
        registry_api = reg_grpc.RegistryServiceStub(reg_ch)
        for blob in (artifacts["v1"], artifacts["v2"]):
            meta = reg.RegisterModelVersionMetadata(
                model=model, feature_width=WIDTH, task=common_pb2.TASK_KIND_CLASSIFICATION
            )
            await registry_api.RegisterModelVersion(
                agen(
                    [
                        reg.RegisterModelVersionRequest(metadata=meta),
                        reg.RegisterModelVersionRequest(chunk=blob),
                    ]
                )
            )
        await registry_api.SetAlias(reg.SetAliasRequest(model=model, alias="champion", version=1))

        serving = ServiceProcess(
            "driftloop_serving",
            {
                **kafka_env(kafka),
                "DRIFTLOOP_GRPC_PORT": str(port),
                "DRIFTLOOP_METRICS_ENABLED": "false",
                "DRIFTLOOP_DATA_DIR": str(tmp_path / "serving"),
                "DRIFTLOOP_SERVICE_ADDRESSES": json.dumps({"registry": f"127.0.0.1:{reg_port}"}),
                "DRIFTLOOP_INSTANCE_ID": instance,
                "DRIFTLOOP_STREAM_SCORING": "false",
                "DRIFTLOOP_RECONCILE_INTERVAL_S": "600",
                "DRIFTLOOP_LOG_FORMAT": "json",
            },
            tmp_path / "serving.log",
        ).start()
        await asyncio.to_thread(serving.wait_healthy, f"127.0.0.1:{port}", 60)
        oip, admin = pb_grpc.GRPCInferenceServiceStub(ch), admin_grpc.ServingAdminServiceStub(ch)

        async def versions() -> list[int]:
            try:
                state = await admin.GetRolloutState(admin_pb.GetRolloutStateRequest(model=model))
            except grpc.aio.AioRpcError:
                return []
            return list(state.loaded_versions)

        async def has(expected: list[int]) -> bool:
            return await versions() == expected

        await wait_for(lambda: has([1]), timeout_s=30)  # from the registry at start
        assert (await oip.ModelInfer(infer(model, 0))).model_version == "1"
        await wait_for(
            lambda: stable(kafka, f"driftloop-serving-{instance}"), timeout_s=60, interval_s=0.5
        )

        # A candidate through the registry's AliasChanged event, then promotion.
        await registry_api.SetAlias(reg.SetAliasRequest(model=model, alias="candidate", version=2))
        await wait_for(lambda: has([1, 2]), timeout_s=30)
        await admin.PinTrafficSplit(
            admin_pb.PinTrafficSplitRequest(model=model, candidate_share=1.0)
        )
        assert (await oip.ModelInfer(infer(model, 1))).model_version == "2"
        await registry_api.SetAlias(reg.SetAliasRequest(model=model, alias="champion", version=2))
        await registry_api.DeleteAlias(reg.DeleteAliasRequest(model=model, alias="candidate"))
        await wait_for(lambda: has([2]), timeout_s=30)
        replies = [await oip.ModelInfer(infer(model, i)) for i in range(20)]
        assert {(r.model_version, r.parameters["role"].string_param) for r in replies} == {
            ("2", "champion")
        }
    finally:
        await ch.close()
        await reg_ch.close()
        codes = [p.terminate() for p in (serving, registry) if p is not None]
    assert codes == [0] * len(codes), (serving.tail() if serving else "", registry.tail())
