"""Canary split and stickiness over 10,000 real gRPC requests, shadow
mirroring, the admin API, and prediction events matching responses."""

from __future__ import annotations

import asyncio
import math
from collections import Counter, defaultdict

import grpc
import pytest

from driftloop.platform.testing import wait_for
from driftloop.serving.v1 import admin_service_pb2 as admin_pb
from driftloop_serving.domain.routing import Mode, Role, TrafficSplit
from inference import grpc_predict_v2_pb2 as pb

WIDTH = 20


def request(model: str, rid: str, entity: str = "") -> pb.ModelInferRequest:
    req = pb.ModelInferRequest(model_name=model, id=rid)
    if entity:
        req.parameters["entity_id"].string_param = entity
    req.inputs.add(name="input", datatype="FP32", shape=[1, WIDTH]).contents.fp32_contents.extend(
        [0.5] * WIDTH
    )
    return req


@pytest.fixture
async def canary(harness, artifacts):
    harness.registry.add("cm", 1, artifacts["v1"])
    harness.registry.add("cm", 2, artifacts["v2"])
    await harness.serve("cm", "champion", 1)
    await harness.serve("cm", "candidate", 2)
    harness.rollouts.started("cm", "ro-1", 0.1, Mode.CANARY)
    return harness


async def send_all(harness, requests, concurrency: int = 32) -> list[pb.ModelInferResponse]:
    queue = list(enumerate(requests))
    replies: list = [None] * len(requests)

    async def worker() -> None:
        while queue:
            i, req = queue.pop()
            replies[i] = await harness.oip.ModelInfer(req)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return replies


async def test_canary_ten_percent_within_bounds_and_sticky(canary):
    # 2,000 entities, 5 requests each = 10,000 requests.
    requests = [request("cm", f"r{i}-{e}", entity=f"e{e}") for i in range(5) for e in range(2000)]
    replies = await send_all(canary, requests)
    by_entity: dict[str, set[str]] = defaultdict(set)
    for req, reply in zip(requests, replies, strict=True):
        by_entity[req.parameters["entity_id"].string_param].add(reply.model_version)
        role = reply.parameters["role"].string_param
        assert role == ("candidate" if reply.model_version == "2" else "champion")
    assert all(len(v) == 1 for v in by_entity.values()), "an entity switched models"
    share = sum(1 for r in replies if r.model_version == "2") / len(replies)
    # Entities (2,000 draws) are what is randomised: 4 standard deviations.
    bound = 4 * math.sqrt(0.1 * 0.9 / 2000)
    assert abs(share - 0.1) < bound, share


async def test_canary_by_request_id_without_entity(canary):
    requests = [request("cm", f"req-{i}") for i in range(10_000)]
    replies = await send_all(canary, requests)
    share = sum(1 for r in replies if r.model_version == "2") / len(replies)
    assert abs(share - 0.1) < 4 * math.sqrt(0.1 * 0.9 / 10_000), share
    again = await send_all(canary, requests[:500])
    assert [r.model_version for r in again] == [r.model_version for r in replies[:500]]


async def test_raising_the_share_keeps_candidate_keys_on_the_candidate(canary):
    requests = [request("cm", f"k{i}") for i in range(2000)]
    before = await send_all(canary, requests)
    canary.rollouts.stepped("cm", "ro-1", 0.5)
    after = await send_all(canary, requests)
    moved_back = [
        i
        for i, (a, b) in enumerate(zip(before, after, strict=True))
        if a.model_version == "2" and b.model_version == "1"
    ]
    assert not moved_back
    share = sum(1 for r in after if r.model_version == "2") / len(after)
    assert abs(share - 0.5) < 4 * math.sqrt(0.25 / 2000)


async def test_shadow_mirrors_and_discards(canary):
    canary.rollouts.started("cm", "ro-2", 0.0, Mode.SHADOW)
    replies = await send_all(canary, [request("cm", f"s{i}") for i in range(200)])
    assert {r.model_version for r in replies} == {"1"}
    await wait_for(lambda: canary.sink.pending == 0 and len(canary.published) >= 400)
    roles = Counter((s.role, s.info.version) for s in canary.published)
    assert roles == {(Role.CHAMPION, 1): 200, (Role.SHADOW, 2): 200}


async def test_admin_pin_and_clear(canary):
    state = await canary.admin.GetRolloutState(admin_pb.GetRolloutStateRequest(model="cm"))
    assert (state.champion.version, state.candidate.version) == (1, 2)
    assert state.candidate_share == pytest.approx(0.1) and state.rollout_id == "ro-1"
    assert list(state.loaded_versions) == [1, 2] and not state.pinned
    meta = (("authorization", "Bearer secret"),)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await canary.admin.PinTrafficSplit(
            admin_pb.PinTrafficSplitRequest(model="cm", candidate_share=1.0)
        )
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    pinned = await canary.admin.PinTrafficSplit(
        admin_pb.PinTrafficSplitRequest(model="cm", candidate_share=1.0), metadata=meta
    )
    assert pinned.pinned and pinned.candidate_share == 1.0
    canary.rollouts.stepped("cm", "ro-1", 0.0)  # a pin beats rollouts
    replies = await send_all(canary, [request("cm", f"p{i}") for i in range(50)])
    assert {r.model_version for r in replies} == {"2"}
    cleared = await canary.admin.ClearTrafficSplit(
        admin_pb.ClearTrafficSplitRequest(model="cm"), metadata=meta
    )
    assert not cleared.pinned and cleared.candidate_share == 0.0
    replies = await send_all(canary, [request("cm", f"c{i}") for i in range(50)])
    assert {r.model_version for r in replies} == {"1"}
    # Both were published for the other replicas, pin then clear.
    assert canary.events.pins == [
        ("cm", TrafficSplit(share=1.0, mode=Mode.CANARY, pinned=True)),
        ("cm", None),
    ]
    # A pin that cannot be published is not applied here either.
    canary.events.pins_fail = True
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await canary.admin.PinTrafficSplit(
            admin_pb.PinTrafficSplitRequest(model="cm", candidate_share=1.0), metadata=meta
        )
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    state = await canary.admin.GetRolloutState(admin_pb.GetRolloutStateRequest(model="cm"))
    assert not state.pinned and state.candidate_share == 0.0
    for bad, code in (
        (admin_pb.PinTrafficSplitRequest(model="cm", candidate_share=1.5), "INVALID_ARGUMENT"),
        (admin_pb.PinTrafficSplitRequest(model="nope", candidate_share=0.5), "NOT_FOUND"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await canary.admin.PinTrafficSplit(bad, metadata=meta)
        assert info.value.code().name == code
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await canary.admin.GetRolloutState(admin_pb.GetRolloutStateRequest(model="nope"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_prediction_events_match_responses_one_to_one(canary):
    from driftloop_serving.codec.converters import prediction_event

    requests = [request("cm", f"ev{i}", entity=f"u{i % 37}") for i in range(500)]
    replies = await send_all(canary, requests)
    await wait_for(lambda: canary.sink.pending == 0 and len(canary.published) >= 500)
    assert len(canary.published) == 500
    events = {}
    for scored in canary.published:
        row = prediction_event(scored, lambda: "ev")
        assert row.record_id not in events
        events[row.record_id] = (scored, row)
    for req, reply in zip(requests, replies, strict=True):
        scored, row = events[req.id]
        assert scored.entity_id == req.parameters["entity_id"].string_param
        assert str(scored.info.version) == reply.model_version
        assert scored.role.value == reply.parameters["role"].string_param
        assert row.prediction == reply.outputs[0].contents.int64_contents[0]
        assert row.probabilities == pytest.approx(list(reply.outputs[1].contents.fp32_contents))
        assert row.features == [0.5] * WIDTH
        assert scored.latency_ms > 0
