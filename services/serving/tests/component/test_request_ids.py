"""Every prediction gets a usable record id: the request's id, else a
generated one flagged as such in the event (monitoring cannot join it)."""

from __future__ import annotations

import asyncio
import itertools

from driftloop.platform.testing import wait_for
from driftloop_serving.codec import converters
from inference import grpc_predict_v2_pb2 as pb

WIDTH = 20


def infer(model: str, rid: str = "", rows: int = 1) -> pb.ModelInferRequest:
    req = pb.ModelInferRequest(model_name=model, id=rid)
    tensor = req.inputs.add(name="input", datatype="FP32", shape=[rows, WIDTH])
    tensor.contents.fp32_contents.extend([0.5] * (rows * WIDTH))
    return req


async def test_requests_without_id_get_a_unique_generated_record_id(harness, artifacts):
    harness.registry.add("noid", 1, artifacts["v1"])
    await harness.serve("noid", "champion", 1)
    await asyncio.gather(*(harness.oip.ModelInfer(infer("noid")) for _ in range(10)))
    await harness.oip.ModelInfer(infer("noid", "given"))
    await harness.oip.ModelInfer(infer("noid", rows=3))
    await wait_for(lambda: len(harness.published) == 12, timeout_s=10)
    ids = itertools.count()
    events = [converters.prediction_event(s, lambda: f"{next(ids)}") for s in harness.published]
    given = [e for e in events if e.request_id == "given"]
    assert [(e.record_id, e.record_id_generated) for e in given] == [("given", False)]
    made_up = [e for e in events if not e.request_id]
    assert len(made_up) == 11 and all(e.record_id and e.record_id_generated for e in made_up)
    assert len({e.record_id for e in made_up}) == 11
    assert sorted(e.rows.count for e in made_up) == [0] * 10 + [3]
