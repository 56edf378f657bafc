"""The serving service as a real process on the real embedded broker, with a
fake registry: start-up from the registry's aliases, alias and rollout
events, gRPC and stream scoring, and one prediction event per prediction."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import grpc
import numpy as np
import pytest

from driftloop.common.v1 import common_pb2
from driftloop.feature.v1.events_pb2 import FeatureVectorComputed
from driftloop.monitoring.v1.events_pb2 import RolloutStarted
from driftloop.platform import topics
from driftloop.platform.bus import EventBus, make_broker
from driftloop.platform.testing import (
    ServiceProcess,
    end_offsets,
    free_port,
    kafka_env,
    read_from,
    stable_members,
    unique,
    wait_for,
)
from driftloop.registry.v1.events_pb2 import AliasChanged, ModelVersionRegistered
from driftloop.serving.v1 import admin_service_pb2, admin_service_pb2_grpc, events_pb2
from inference import grpc_predict_v2_pb2 as pb
from inference import grpc_predict_v2_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration
WIDTH = 20


async def test_serving_process_end_to_end(kafka, tmp_path: Path, artifacts, fake_registry):
    model, view, instance = unique("m"), unique("view"), unique("i")
    fake, registry_address = fake_registry
    fake.add(model, 1, artifacts["v1"], feature_view=view)
    v2 = fake.add(model, 2, artifacts["v2"], feature_view=view)
    fake.aliases[model] = {"champion": 1}
    port = free_port()
    proc = ServiceProcess(
        "driftloop_serving",
        {
            **kafka_env(kafka),
            "DRIFTLOOP_GRPC_PORT": str(port),
            "DRIFTLOOP_METRICS_ENABLED": "false",
            "DRIFTLOOP_DATA_DIR": str(tmp_path),
            "DRIFTLOOP_SERVICE_ADDRESSES": json.dumps({"registry": registry_address}),
            "DRIFTLOOP_INSTANCE_ID": instance,
            "DRIFTLOOP_STREAM_GROUP": unique("stream"),
            "DRIFTLOOP_RECONCILE_INTERVAL_S": "600",
            "DRIFTLOOP_LOG_FORMAT": "json",
        },
        tmp_path / "serving.log",
    )
    starts = {
        t: await end_offsets(kafka, t) for t in (topics.PREDICTIONS.name, topics.SERVING.name)
    }
    broker = make_broker(kafka, "serving-test")
    bus = EventBus(broker, "test", kafka)
    await broker.start()
    proc.start()
    address = f"127.0.0.1:{port}"
    ch = grpc.aio.insecure_channel(address)
    oip, admin = (
        pb_grpc.GRPCInferenceServiceStub(ch),
        admin_service_pb2_grpc.ServingAdminServiceStub(ch),
    )
    try:
        await asyncio.to_thread(proc.wait_healthy, address, 60)

        # Start-up: v1 comes from the registry's aliases, no event needed.
        async def ready() -> bool:
            return (await oip.ModelReady(pb.ModelReadyRequest(name=model, version="1"))).ready

        await wait_for(ready, timeout_s=30)
        own = f"driftloop-serving-{instance}"
        for group in (own, f"{own}-rollouts"):
            await wait_for(
                lambda g=group: _eq(stable_members(kafka, g), 1), timeout_s=60, interval_s=0.5
            )
        # Events: a registration next to it is skipped, not dead-lettered.
        await bus.publish(ModelVersionRegistered(meta=bus.meta(), version=v2), key=model)
        await bus.publish(
            AliasChanged(
                meta=bus.meta(), model=model, alias="candidate", version=2, model_version=v2
            ),
            key=model,
        )

        async def state() -> admin_service_pb2.RolloutState:
            return await admin.GetRolloutState(
                admin_service_pb2.GetRolloutStateRequest(model=model)
            )

        await wait_for(lambda: _eq_list(state(), [1, 2]), timeout_s=30)
        await bus.publish(
            RolloutStarted(
                meta=bus.meta(),
                rollout_id="ro",
                model=model,
                candidate=common_pb2.ModelRef(name=model, version=2),
                candidate_share=0.5,
            ),
            key=model,
        )
        await wait_for(lambda: _share(state(), 0.5), timeout_s=30)

        # gRPC: 300 requests, half-ish to the candidate.
        rng = np.random.default_rng(3)
        replies = {}
        for i in range(300):
            req = pb.ModelInferRequest(model_name=model, id=f"{model}-g{i}")
            req.inputs.add(
                name="input", datatype="FP32", shape=[1, WIDTH]
            ).contents.fp32_contents.extend(rng.normal(size=WIDTH).tolist())
            replies[req.id] = await oip.ModelInfer(req)
        assert {r.model_version for r in replies.values()} == {"1", "2"}
        # Stream: 40 vectors of the model's view (and 5 of another view).
        vectors = [
            FeatureVectorComputed(
                meta=bus.meta(),
                record_id=f"{model}-s{i}",
                entity_id=f"e{i}",
                view=view,
                view_version=1,
                feature_names=[f"f{j}" for j in range(WIDTH)],
                values=rng.normal(size=WIDTH).tolist(),
            )
            for i in range(40)
        ] + [
            FeatureVectorComputed(
                meta=bus.meta(), record_id=f"{model}-x{i}", view=unique("other"), values=[1.0]
            )
            for i in range(5)
        ]
        await bus.publish_many([(v, v.entity_id) for v in vectors])

        key = model.encode()
        records = await read_from(
            kafka,
            topics.PREDICTIONS.name,
            starts[topics.PREDICTIONS.name],
            count=340,
            timeout_s=60,
            predicate=lambda r: r.key == key,
        )
        events = [events_pb2.PredictionMade.FromString(r.value) for r in records]
        assert len(events) == 340
        by_record = {e.record_id: e for e in events}
        assert len(by_record) == 340  # one event per prediction, no duplicates
        for rid, reply in replies.items():
            event = by_record[rid]
            assert event.source == events_pb2.PREDICTION_SOURCE_GRPC
            assert str(event.model.version) == reply.model_version
            assert event.prediction == reply.outputs[0].contents.int64_contents[0]
            assert len(event.features) == WIDTH and len(event.probabilities) == 2
        stream = [e for e in events if e.source == events_pb2.PREDICTION_SOURCE_STREAM]
        assert sorted(e.record_id for e in stream) == sorted(v.record_id for v in vectors[:40])
        assert all(len(e.feature_names) == WIDTH for e in stream)

        loaded = await read_from(
            kafka,
            topics.SERVING.name,
            starts[topics.SERVING.name],
            count=2,
            timeout_s=30,
            predicate=lambda r: r.key == key,
        )
        versions = sorted(events_pb2.ModelLoaded.FromString(r.value).model.version for r in loaded)
        assert versions == [1, 2]
    finally:
        await ch.close()
        await broker.stop()
        code = proc.terminate()
    assert code == 0, proc.tail()


async def _eq(value, expected) -> bool:
    return (await value) == expected


async def _eq_list(state, expected) -> bool:
    return list((await state).loaded_versions) == expected


async def _share(state, expected) -> bool:
    return (await state).candidate_share == expected
