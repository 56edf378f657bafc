"""Every OIP v2 RPC over real gRPC: typed and raw contents, the datatypes,
requested outputs, the request id, and every error status."""

from __future__ import annotations

import asyncio

import grpc
import numpy as np
import pytest

from inference import grpc_predict_v2_pb2 as pb

WIDTH = 20


def lr_request(model: str, rows: np.ndarray, *, raw: bool = False, **kw) -> pb.ModelInferRequest:
    request = pb.ModelInferRequest(model_name=model, **kw)
    tensor = request.inputs.add(name="input", datatype="FP32", shape=list(rows.shape))
    if raw:
        request.raw_input_contents.append(rows.astype(np.float32).tobytes())
    else:
        tensor.contents.fp32_contents.extend(rows.ravel().tolist())
    return request


async def code_of(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value.code(), info.value.details()


@pytest.fixture
async def lr(harness, artifacts):
    harness.registry.add("lr", 1, artifacts["v1"])
    await harness.serve("lr", "champion", 1)
    return harness


async def test_server_live_ready_metadata(lr):
    assert (await lr.oip.ServerLive(pb.ServerLiveRequest())).live
    assert (await lr.oip.ServerReady(pb.ServerReadyRequest())).ready
    meta = await lr.oip.ServerMetadata(pb.ServerMetadataRequest())
    assert meta.name == "driftloop-serving" and meta.version


async def test_server_not_ready_while_a_model_is_only_loading(harness, artifacts):
    harness.registry.add("slow", 1, artifacts["v1"])
    harness.registry.gate = asyncio.Event()
    task = asyncio.create_task(harness.serve("slow", "champion", 1))
    await asyncio.sleep(0.2)
    assert not (await harness.oip.ServerReady(pb.ServerReadyRequest())).ready
    assert not (await harness.oip.ModelReady(pb.ModelReadyRequest(name="slow"))).ready
    code, details = await code_of(harness.oip.ModelInfer(lr_request("slow", np.zeros((1, 20)))))
    assert code == grpc.StatusCode.UNAVAILABLE and "loading" in details
    code, _ = await code_of(
        harness.oip.ModelInfer(lr_request("slow", np.zeros((1, 20)), model_version="1"))
    )
    assert code == grpc.StatusCode.UNAVAILABLE
    harness.registry.gate.set()
    await task
    assert (await harness.oip.ModelReady(pb.ModelReadyRequest(name="slow"))).ready


async def test_model_ready(lr):
    assert (await lr.oip.ModelReady(pb.ModelReadyRequest(name="lr"))).ready
    assert (await lr.oip.ModelReady(pb.ModelReadyRequest(name="lr", version="1"))).ready
    assert not (await lr.oip.ModelReady(pb.ModelReadyRequest(name="lr", version="2"))).ready
    assert not (await lr.oip.ModelReady(pb.ModelReadyRequest(name="nope"))).ready


async def test_model_metadata_reads_the_onnx_signature(lr):
    meta = await lr.oip.ModelMetadata(pb.ModelMetadataRequest(name="lr"))
    assert meta.name == "lr" and list(meta.versions) == ["1"]
    assert meta.platform == "onnxruntime_onnx"
    assert [(t.name, t.datatype, list(t.shape)) for t in meta.inputs] == [
        ("input", "FP32", [-1, WIDTH])
    ]
    assert [(t.name, t.datatype) for t in meta.outputs] == [
        ("label", "INT64"),
        ("probabilities", "FP32"),
    ]
    code, details = await code_of(lr.oip.ModelMetadata(pb.ModelMetadataRequest(name="nope")))
    assert code == grpc.StatusCode.NOT_FOUND and "nope" in details
    code, _ = await code_of(lr.oip.ModelMetadata(pb.ModelMetadataRequest(name="lr", version="7")))
    assert code == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("raw", [False, True])
async def test_infer_typed_and_raw_match_onnxruntime(lr, artifacts, raw):
    import onnxruntime as ort

    rows = np.random.default_rng(0).normal(size=(5, WIDTH)).astype(np.float32)
    expected = ort.InferenceSession(artifacts["v1"]).run(None, {"input": rows})
    reply = await lr.oip.ModelInfer(lr_request("lr", rows, raw=raw, id="req-1"))
    assert reply.id == "req-1" and reply.model_name == "lr" and reply.model_version == "1"
    assert reply.parameters["model_version"].string_param == "1"
    assert reply.parameters["role"].string_param == "champion"
    assert [(o.name, o.datatype, list(o.shape)) for o in reply.outputs] == [
        ("label", "INT64", [5]),
        ("probabilities", "FP32", [5, 2]),
    ]
    if raw:
        label = np.frombuffer(reply.raw_output_contents[0], np.int64)
        probs = np.frombuffer(reply.raw_output_contents[1], np.float32).reshape(5, 2)
    else:
        assert not reply.raw_output_contents
        label = np.array(reply.outputs[0].contents.int64_contents)
        probs = np.array(reply.outputs[1].contents.fp32_contents).reshape(5, 2)
    np.testing.assert_array_equal(label, expected[0])
    np.testing.assert_allclose(probs, expected[1], rtol=1e-6)


async def test_requested_outputs(lr):
    request = lr_request("lr", np.zeros((1, WIDTH)))
    request.outputs.add(name="probabilities")
    reply = await lr.oip.ModelInfer(request)
    assert [o.name for o in reply.outputs] == ["probabilities"]
    request.outputs.add(name="logits")
    code, details = await code_of(lr.oip.ModelInfer(request))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "logits" in details


DTYPE_CASES = {
    "FP32": ("f32", "fp32_contents", np.float32, [1.5, -2.25, 3.0, 4.0]),
    "FP64": ("f64", "fp64_contents", np.float64, [1e-300, 2.5, -3.0, 4.0]),
    "INT64": ("i64", "int64_contents", np.int64, [2**40, -1, 0, 7]),
    "INT32": ("i32", "int_contents", np.int32, [2**30, -5, 0, 9]),
    "BOOL": ("b", "bool_contents", np.bool_, [True, False, False, True]),
}


@pytest.mark.parametrize("raw", [False, True])
async def test_every_datatype_round_trips(harness, artifacts, raw):
    harness.registry.add("dtypes", 1, artifacts["dtypes"])
    await harness.serve("dtypes", "champion", 1)
    request = pb.ModelInferRequest(model_name="dtypes", id="d")
    for datatype, (suffix, field, dtype, values) in DTYPE_CASES.items():
        tensor = request.inputs.add(name=f"x_{suffix}", datatype=datatype, shape=[2, 2])
        if raw:
            request.raw_input_contents.append(np.array(values, dtype=dtype).tobytes())
        else:
            getattr(tensor.contents, field).extend(values)
    reply = await harness.oip.ModelInfer(request)
    outputs = {o.name: (i, o) for i, o in enumerate(reply.outputs)}
    for datatype, (suffix, field, dtype, values) in DTYPE_CASES.items():
        i, out = outputs[f"y_{suffix}"]
        assert out.datatype == datatype and list(out.shape) == [2, 2]
        got = (
            np.frombuffer(reply.raw_output_contents[i], dtype)
            if raw
            else np.array(getattr(out.contents, field), dtype)
        )
        want = np.logical_not(values) if datatype == "BOOL" else np.array(values, dtype)
        np.testing.assert_array_equal(got, want)


async def test_unknown_model_and_version_are_not_found(lr):
    code, details = await code_of(lr.oip.ModelInfer(lr_request("nope", np.zeros((1, WIDTH)))))
    assert code == grpc.StatusCode.NOT_FOUND and "nope" in details
    code, _ = await code_of(
        lr.oip.ModelInfer(lr_request("lr", np.zeros((1, WIDTH)), model_version="9"))
    )
    assert code == grpc.StatusCode.NOT_FOUND
    code, details = await code_of(
        lr.oip.ModelInfer(lr_request("lr", np.zeros((1, WIDTH)), model_version="latest"))
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "model_version" in details


def _bad_requests() -> dict[str, tuple[pb.ModelInferRequest, str]]:
    cases = {}
    wrong_name = lr_request("lr", np.zeros((1, WIDTH)))
    wrong_name.inputs[0].name = "features"
    cases["unknown input name"] = (wrong_name, "features")
    wrong_dtype = pb.ModelInferRequest(model_name="lr")
    t = wrong_dtype.inputs.add(name="input", datatype="FP64", shape=[1, WIDTH])
    t.contents.fp64_contents.extend([0.0] * WIDTH)
    cases["wrong datatype"] = (wrong_dtype, "input")
    cases["wrong width"] = (lr_request("lr", np.zeros((1, WIDTH + 1))), "input")
    flat = lr_request("lr", np.zeros(WIDTH))
    cases["wrong rank"] = (flat, "input")
    short = lr_request("lr", np.zeros((2, WIDTH)))
    del short.inputs[0].contents.fp32_contents[-1]
    cases["too few values"] = (short, "input")
    raw_short = lr_request("lr", np.zeros((1, WIDTH)), raw=True)
    raw_short.raw_input_contents[0] = b"\0" * 7
    cases["raw byte count"] = (raw_short, "input")
    raw_extra = lr_request("lr", np.zeros((1, WIDTH)), raw=True)
    raw_extra.raw_input_contents.append(b"")
    cases["raw entry count"] = (raw_extra, "raw_input_contents")
    missing = pb.ModelInferRequest(model_name="lr")
    cases["missing input"] = (missing, "input")
    bad_type = lr_request("lr", np.zeros((1, WIDTH)))
    bad_type.inputs[0].datatype = "FLOAT"
    cases["unknown datatype"] = (bad_type, "FLOAT")
    negative = lr_request("lr", np.zeros((1, WIDTH)))
    negative.inputs[0].shape[0] = -1
    cases["negative dimension"] = (negative, "input")
    return cases


@pytest.mark.parametrize("case", list(_bad_requests()))
async def test_bad_requests_are_invalid_argument_naming_the_tensor(lr, case):
    request, named = _bad_requests()[case]
    code, details = await code_of(lr.oip.ModelInfer(request))
    assert code == grpc.StatusCode.INVALID_ARGUMENT, details
    assert named in details


async def test_oversized_request_is_resource_exhausted(lr):
    # The harness accepts at most 1000 rows per request.
    code, details = await code_of(lr.oip.ModelInfer(lr_request("lr", np.zeros((1001, WIDTH)))))
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and "1000" in details
    reply = await lr.oip.ModelInfer(lr_request("lr", np.zeros((1000, WIDTH))))
    assert list(reply.outputs[0].shape) == [1000]


async def test_message_over_the_grpc_limit_is_resource_exhausted(lr):
    huge = lr_request("lr", np.zeros((1, WIDTH)), raw=True)
    huge.raw_input_contents[0] = b"\0" * (17 * 1024 * 1024)
    code, _ = await code_of(lr.oip.ModelInfer(huge))
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
