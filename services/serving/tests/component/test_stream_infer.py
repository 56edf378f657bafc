"""ModelStreamInfer: many requests on one stream, each answer carrying its
request's id, a failed request answered with an error message while the
stream goes on."""

from __future__ import annotations

import grpc

from driftloop.platform.testing import wait_for
from inference import grpc_predict_v2_pb2 as pb

WIDTH = 20


def infer(model: str, rid: str, rows: int = 1) -> pb.ModelInferRequest:
    req = pb.ModelInferRequest(model_name=model, id=rid)
    tensor = req.inputs.add(name="input", datatype="FP32", shape=[rows, WIDTH])
    tensor.contents.fp32_contents.extend([0.5] * (rows * WIDTH))
    return req


def by_entity(model: str, rid: str, entity: str) -> pb.ModelInferRequest:
    req = pb.ModelInferRequest(model_name=model, id=rid)
    req.parameters["entity_id"].string_param = entity
    return req


async def test_a_stream_answers_each_request_and_survives_bad_ones(harness, artifacts):
    harness.registry.add("st", 1, artifacts["v1"], feature_view="txn")
    await harness.serve("st", "champion", 1)
    harness.features.put("txn", "cust-1", [0.1] * WIDTH, "rec-1")
    requests = [
        infer("st", "a"),
        infer("nope", "b"),
        infer("st", "c", rows=0),
        by_entity("st", "d", "cust-1"),
        by_entity("st", "e", "nobody"),
        infer("st", "f", rows=3),
    ]
    replies = [r async for r in harness.oip.ModelStreamInfer(iter(requests))]
    assert [r.infer_response.id for r in replies] == ["a", "b", "c", "d", "e", "f"]
    errors = [r.error_message.split(":")[0] for r in replies]
    assert errors == ["", "NOT_FOUND", "INVALID_ARGUMENT", "", "NOT_FOUND", ""]
    assert replies[1].infer_response.model_name == "nope"
    assert replies[5].infer_response.outputs[0].shape[0] == 3
    good = {replies[i].infer_response.model_version for i in (0, 3, 5)}
    assert good == {"1"}
    await wait_for(lambda: len(harness.published) == 3, timeout_s=10)
    assert sorted(s.request_id for s in harness.published) == ["a", "d", "f"]


async def test_many_requests_on_one_stream_from_a_generator(harness, artifacts):
    harness.registry.add("st2", 1, artifacts["v1"])
    await harness.serve("st2", "champion", 1)
    call = harness.oip.ModelStreamInfer()
    for i in range(200):
        await call.write(infer("st2", f"r{i}"))
    await call.done_writing()
    replies = [r async for r in call]
    assert [r.infer_response.id for r in replies] == [f"r{i}" for i in range(200)]
    assert all(not r.error_message for r in replies)
    assert await call.code() == grpc.StatusCode.OK
