"""Entity-keyed inference: ModelInfer with parameter entity_id and no tensor
is scored on the entity's newest online vector (feature service over real
gRPC); a missing, stale or mismatched vector gets a clear status."""

from __future__ import annotations

import asyncio

import grpc
import numpy as np
import pytest

from driftloop.platform.testing import wait_for
from driftloop_serving.codec import converters
from inference import grpc_predict_v2_pb2 as pb

WIDTH = 20
VALUES = [0.1 * i for i in range(WIDTH)]


def by_entity(model: str, entity: str, rid: str = "", view: str = "") -> pb.ModelInferRequest:
    req = pb.ModelInferRequest(model_name=model, id=rid)
    req.parameters["entity_id"].string_param = entity
    if view:
        req.parameters["feature_view"].string_param = view
    return req


def by_tensor(model: str, values: list[float]) -> pb.ModelInferRequest:
    req = pb.ModelInferRequest(model_name=model, id="tensor")
    req.inputs.add(name="input", datatype="FP32", shape=[1, WIDTH]).contents.fp32_contents.extend(
        values
    )
    return req


@pytest.fixture
async def served(harness, artifacts):
    harness.registry.add("ek", 1, artifacts["v1"], feature_view="txn", feature_view_version=1)
    await harness.serve("ek", "champion", 1)
    harness.features.put("txn", "cust-1", VALUES, "rec-42")
    return harness


async def test_one_call_scores_the_entity_vector_like_the_tensor(served):
    reply = await served.oip.ModelInfer(by_entity("ek", "cust-1"))
    same = await served.oip.ModelInfer(by_tensor("ek", VALUES))
    # No tensor sent: raw outputs (what Triton clients read), equal to the typed ones.
    probs = np.frombuffer(reply.raw_output_contents[1], dtype=np.float32)
    assert reply.outputs[1].name == "probabilities"
    assert probs.tolist() == list(same.outputs[1].contents.fp32_contents)
    assert np.frombuffer(reply.raw_output_contents[0], dtype=np.int64).tolist() == list(
        same.outputs[0].contents.int64_contents
    )
    assert reply.model_version == "1" and served.features.lookups == 1
    with_id = await served.oip.ModelInfer(by_entity("ek", "cust-1", rid="req-7", view="txn"))
    assert with_id.id == "req-7"
    await wait_for(lambda: len(served.published) == 3, timeout_s=10)
    events = [converters.prediction_event(s, lambda: "ev") for s in served.published]
    first, _, third = events
    # No request id: the prediction joins on the record the vector came from.
    assert (first.record_id, first.record_id_generated) == ("rec-42", False)
    assert (first.vector_record_id, first.entity_id) == ("rec-42", "cust-1")
    assert list(first.feature_names) == [f"f{i}" for i in range(WIDTH)]
    assert first.features == pytest.approx(VALUES, abs=1e-6)
    # With a request id too: the record is still the vector's (its label
    # judges the prediction); the request id is kept as such.
    assert (third.record_id, third.request_id, third.vector_record_id) == (
        "rec-42",
        "req-7",
        "rec-42",
    )
    assert with_id.parameters["vector_record_id"].string_param == "rec-42"


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ("missing", grpc.StatusCode.NOT_FOUND, "has no vector"),
        ("stale", grpc.StatusCode.FAILED_PRECONDITION, "old"),
        ("view_version", grpc.StatusCode.FAILED_PRECONDITION, "trained on version 1"),
        ("view_name", grpc.StatusCode.FAILED_PRECONDITION, "does not match"),
        ("width", grpc.StatusCode.FAILED_PRECONDITION, "shape [1, 3]"),
    ],
)
async def test_missing_stale_or_mismatched_vectors_get_a_clear_status(served, change, code, words):
    entity, view = "cust-1", ""
    if change == "missing":
        entity = "nobody"
    elif change == "stale":
        served.features.put("txn", "cust-1", VALUES, "rec-42", age_s=3600)
    elif change == "view_version":
        served.features.view_versions["txn"] = 2
    elif change == "view_name":
        view = "other"
    else:
        served.features.put("txn", "cust-1", [1.0, 2.0, 3.0], "rec-43")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await served.oip.ModelInfer(by_entity("ek", entity, view=view))
    assert err.value.code() == code
    assert words in err.value.details()
    assert served.sink.pending == 0 and served.published == []


async def test_a_model_without_feature_view_asks_for_a_tensor(harness, artifacts):
    harness.registry.add("noview", 1, artifacts["v1"])
    await harness.serve("noview", "champion", 1)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await harness.oip.ModelInfer(by_entity("noview", "cust-1"))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "send an input tensor" in err.value.details()


async def test_concurrent_lookups_share_calls_and_each_gets_its_own_vector(served):
    for i in range(10):
        served.features.put("txn", f"c{i}", [0.1 * i] * WIDTH, f"rec-c{i}")
    entities = [f"c{i % 10}" for i in range(60)] + ["nobody"]
    replies = await asyncio.gather(
        *(served.oip.ModelInfer(by_entity("ek", e, rid=f"r{n}")) for n, e in enumerate(entities)),
        return_exceptions=True,
    )
    assert isinstance(replies[-1], grpc.aio.AioRpcError)
    assert replies[-1].code() == grpc.StatusCode.NOT_FOUND
    assert all(isinstance(r, pb.ModelInferResponse) for r in replies[:-1])
    assert served.features.lookups < len(entities)  # batched while a call was in flight
    await wait_for(lambda: len(served.published) == 60, timeout_s=10)
    for s in served.published:
        entity = s.entity_id
        assert s.vector_record_id == f"rec-{entity}"
        assert s.features[0][0] == pytest.approx(0.1 * int(entity[1:]), abs=1e-6)
