"""A model the registry accepts is one serving can load: both read the
platform's one datatype table (driftloop.platform.datatypes). Property-tested
over every tensor type ONNX has, as the input and as the output of a model."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from driftloop.platform.datatypes import SERVABLE
from driftloop_registry.adapters.vet_worker import Refused, vet
from driftloop_serving.adapters.onnx_runner import OnnxRunner, session_options

#: Every tensor element type of ONNX (UNDEFINED aside), by name.
ELEMENT_TYPES = sorted(
    name for name, value in TensorProto.DataType.items() if value != TensorProto.UNDEFINED
)


def _model(input_type: int, output_type: int) -> bytes:
    """input [-1, 3] -> output [-1, 3]: the input itself, or cast when the types differ."""
    x = helper.make_tensor_value_info("input", input_type, [None, 3])
    y = helper.make_tensor_value_info("output", output_type, [None, 3])
    node = (
        helper.make_node("Identity", ["input"], ["output"])
        if input_type == output_type
        else helper.make_node("Cast", ["input"], ["output"], to=output_type)
    )
    graph = helper.make_graph([node], "datatypes", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    model.ir_version = 10
    return model.SerializeToString()


def _verdict(tmp: Path, data: bytes) -> dict | None:
    path = tmp / "model.onnx"
    path.write_bytes(data)
    try:
        return vet(path, feature_width=0)
    except Refused:
        return None


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from(ELEMENT_TYPES), st.sampled_from(ELEMENT_TYPES))
def test_a_model_the_registry_accepts_is_one_serving_can_load(tmp_path, input_name, output_name):
    data = _model(TensorProto.DataType.Value(input_name), TensorProto.DataType.Value(output_name))
    if _verdict(tmp_path, data) is None:
        return  # refused (with a reason): serving never sees it
    runner = OnnxRunner(data, session_options(1, 1))
    try:
        runner.warm(rounds=1)  # what serving does before it routes traffic
        assert {t.datatype for t in runner.inputs + runner.outputs} <= SERVABLE
    finally:
        runner.close()


@pytest.mark.parametrize("elem", ["FLOAT", "DOUBLE", "FLOAT16", "INT64", "INT32", "BOOL", "UINT8"])
def test_numeric_models_are_accepted_and_served(tmp_path, elem):
    """The property above is not vacuous: the types models use pass both sides."""
    data = _model(TensorProto.DataType.Value(elem), TensorProto.FLOAT)
    signature = _verdict(tmp_path, data)
    assert signature is not None
    assert signature["inputs"][0]["datatype"] in SERVABLE
    runner = OnnxRunner(data, session_options(1, 1))
    try:
        runner.warm(rounds=1)
    finally:
        runner.close()


@pytest.mark.parametrize(
    ("elem", "kind"), [("STRING", "input"), ("BFLOAT16", "input"), ("STRING", "output")]
)
def test_what_serving_cannot_carry_is_refused_with_the_reason(tmp_path, elem, kind):
    other = TensorProto.FLOAT
    elem_type = TensorProto.DataType.Value(elem)
    data = _model(elem_type, other) if kind == "input" else _model(other, elem_type)
    path = tmp_path / "model.onnx"
    path.write_bytes(data)
    with pytest.raises(Refused, match=f"{kind} '{kind}' has datatype .* serving cannot carry"):
        vet(path, feature_width=0)
