"""Run by the tritonclient test in tritonclient's own virtualenv (its stubs
and ours both define the ``inference`` proto package, so they cannot share a
process): unary, entity-keyed and streaming calls against a real serving
process, with tritonclient's public API only. Prints one JSON object."""

from __future__ import annotations

import json
import queue
import sys

import numpy as np
import tritonclient.grpc as tc
from tritonclient.utils import InferenceServerException

WIDTH = 20


def tensor(rows: int, value: float = 0.5) -> tc.InferInput:
    inp = tc.InferInput("input", [rows, WIDTH], "FP32")
    inp.set_data_from_numpy(np.full((rows, WIDTH), value, dtype=np.float32))
    return inp


def failure(call) -> str:
    try:
        call()
    except InferenceServerException as exc:
        return f"{exc.status()} {exc.message()}"
    return "no error"


def main(url: str, model: str, entity: str, values: list[float]) -> dict:
    client = tc.InferenceServerClient(url)
    out: dict = {"live": client.is_server_live(), "ready": client.is_model_ready(model)}
    # Unary, no request id (tritonclient's default), two rows.
    anonymous = client.infer(model, [tensor(2)])
    out["anonymous"] = {
        "id": anonymous.get_response().id,
        "labels": anonymous.as_numpy("label").tolist(),
    }
    named = client.infer(model, [tensor(1)], request_id="tc-named")
    out["named_id"] = named.get_response().id
    out["empty"] = failure(lambda: client.infer(model, [tensor(0)], request_id="tc-empty"))
    # Entity-keyed: no input tensor, the entity as a request parameter.
    by_entity = client.infer(model, [], request_id="tc-entity", parameters={"entity_id": entity})
    row = tc.InferInput("input", [1, WIDTH], "FP32")
    row.set_data_from_numpy(np.asarray([values], dtype=np.float32))
    by_tensor = client.infer(model, [row], request_id="tc-tensor")
    out["entity"] = {
        "id": by_entity.get_response().id,
        "probabilities": by_entity.as_numpy("probabilities").tolist(),
        "tensor_probabilities": by_tensor.as_numpy("probabilities").tolist(),
    }
    out["missing_entity"] = failure(
        lambda: client.infer(model, [], parameters={"entity_id": "nobody"})
    )
    # Streaming: 20 tensor requests, one entity-keyed, one bad, one stream.
    answers: queue.Queue = queue.Queue()
    client.start_stream(callback=lambda result, error: answers.put((result, error)))
    for i in range(20):
        client.async_stream_infer(model, [tensor(1, i / 20)], request_id=f"s{i}")
    client.async_stream_infer(model, [tensor(0)], request_id="s-bad")
    client.async_stream_infer(model, [], request_id="s-entity", parameters={"entity_id": entity})
    got = [answers.get(timeout=60) for _ in range(22)]
    client.stop_stream()
    out["stream_ids"] = sorted(r.get_response().id for r, e in got if e is None)
    out["stream_errors"] = [str(e) for r, e in got if e is not None]
    client.close()
    return out


if __name__ == "__main__":
    url, model, entity, values = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    print(json.dumps(main(url, model, entity, values)))
