"""One client's bad row set never costs other clients their prediction
events: an empty input is rejected at the edge, and a call whose outputs
cannot be read as rows is skipped alone by the publisher (real broker)."""

from __future__ import annotations

import asyncio

import grpc
import numpy as np
import pytest

from driftloop.platform import topics
from driftloop.platform.testing import end_offsets, read_from, unique, wait_for
from driftloop.serving.v1.events_pb2 import PredictionMade
from driftloop_serving.adapters.prediction_publisher import PredictionPublisher
from driftloop_serving.domain.models import VersionInfo
from driftloop_serving.domain.predictions import Scored
from driftloop_serving.domain.routing import Role
from driftloop_serving.service.predictions import PredictionSink
from inference import grpc_predict_v2_pb2 as pb

WIDTH = 20


def infer(model: str, rid: str, rows: int) -> pb.ModelInferRequest:
    req = pb.ModelInferRequest(model_name=model, id=rid)
    tensor = req.inputs.add(name="input", datatype="FP32", shape=[rows, WIDTH])
    tensor.contents.fp32_contents.extend([0.5] * (rows * WIDTH))
    return req


async def test_an_empty_input_is_rejected_and_the_others_are_published(harness, artifacts):
    harness.registry.add("empty", 1, artifacts["v1"])
    await harness.serve("empty", "champion", 1)
    good = [harness.oip.ModelInfer(infer("empty", f"g{i}", 1)) for i in range(20)]
    bad = harness.oip.ModelInfer(infer("empty", "bad", 0))
    replies = await asyncio.gather(*good, bad, return_exceptions=True)
    assert all(isinstance(r, pb.ModelInferResponse) for r in replies[:20])
    err = replies[20]
    assert isinstance(err, grpc.aio.AioRpcError)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "no rows" in err.details()
    await wait_for(lambda: len(harness.published) == 20, timeout_s=10)
    assert sorted(s.request_id for s in harness.published) == sorted(f"g{i}" for i in range(20))


def scored(model: str, rid: str, outputs: dict[str, np.ndarray], rows: int = 1) -> Scored:
    return Scored(
        "grpc",
        rid,
        rid,
        "",
        VersionInfo(model, 1),
        Role.CHAMPION,
        (),
        np.zeros((rows, 2), dtype=np.float32),
        outputs,
        1.0,
        0.0,
    )


@pytest.mark.integration
async def test_a_malformed_call_is_skipped_alone_by_the_publisher(kafka):
    model = unique("iso")
    publisher = PredictionPublisher(kafka)
    await publisher.start()
    sink = PredictionSink(publisher.publish, linger_s=0.05)
    start = await end_offsets(kafka, topics.PREDICTIONS.name)
    task = asyncio.create_task(sink.run())
    try:
        for i in range(10):
            sink.record(scored(model, f"a{i}", {"label": np.array([1])}))
        # No rows at all: nothing predicted, nothing to publish.
        sink.record(scored(model, "zero", {"label": np.zeros(0, np.int64)}, rows=0))
        # Outputs that disagree on the row count cannot be read as rows.
        sink.record(
            scored(
                model,
                "odd",
                {"label": np.array([1, 0]), "probabilities": np.zeros(3)},
                rows=2,
            )
        )
        for i in range(10):
            sink.record(scored(model, f"b{i}", {"label": np.array([0])}))
        await wait_for(lambda: sink.published + sink.unpublished == 22, timeout_s=30)
    finally:
        task.cancel()
        await publisher.stop()
    assert (sink.published, sink.unpublished) == (21, 1)

    def ours(record) -> bool:
        return record.key == model.encode()

    records = await read_from(kafka, topics.PREDICTIONS.name, start, count=20, predicate=ours)
    ids = sorted(PredictionMade.FromString(r.value).record_id for r in records)
    assert ids == sorted([f"a{i}" for i in range(10)] + [f"b{i}" for i in range(10)])
