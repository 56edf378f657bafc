"""The one table of tensor datatypes: onnxruntime's type names, the Open
Inference Protocol (v2) names, the numpy dtypes and the typed-contents field
of an OIP tensor. Registry vetting and serving both read it, so a model the
registry accepts is one serving can feed.

>>> oip_name("tensor(float)"), oip_name("seq(tensor(float))")
('FP32', 'seq(tensor(float))')
>>> BY_OIP["INT64"].numpy, BY_OIP["INT64"].contents
('int64', 'int64_contents')
>>> sorted(set(BY_OIP) - SERVABLE)
['BF16', 'BYTES']
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Datatype:
    """One tensor datatype under its three names."""

    oip: str  # the OIP v2 name, e.g. "FP32"
    onnx: str  # onnxruntime's NodeArg.type, e.g. "tensor(float)"
    numpy: str | None  # the numpy dtype; None: numpy has none serving can use
    contents: str | None  # the InferTensorContents field; None: raw contents only


DATATYPES = (
    Datatype("BOOL", "tensor(bool)", "bool", "bool_contents"),
    Datatype("INT8", "tensor(int8)", "int8", "int_contents"),
    Datatype("INT16", "tensor(int16)", "int16", "int_contents"),
    Datatype("INT32", "tensor(int32)", "int32", "int_contents"),
    Datatype("INT64", "tensor(int64)", "int64", "int64_contents"),
    Datatype("UINT8", "tensor(uint8)", "uint8", "uint_contents"),
    Datatype("UINT16", "tensor(uint16)", "uint16", "uint_contents"),
    Datatype("UINT32", "tensor(uint32)", "uint32", "uint_contents"),
    Datatype("UINT64", "tensor(uint64)", "uint64", "uint64_contents"),
    Datatype("FP16", "tensor(float16)", "float16", None),
    Datatype("FP32", "tensor(float)", "float32", "fp32_contents"),
    Datatype("FP64", "tensor(double)", "float64", "fp64_contents"),
    # Known, but serving carries neither: numpy has no bfloat16, and serving
    # decodes and encodes fixed-size numbers only.
    Datatype("BF16", "tensor(bfloat16)", None, None),
    Datatype("BYTES", "tensor(string)", None, "bytes_contents"),
)
BY_OIP = {d.oip: d for d in DATATYPES}
BY_ONNX = {d.onnx: d for d in DATATYPES}
#: The OIP datatypes serving feeds to and reads from a model.
SERVABLE = frozenset(d.oip for d in DATATYPES if d.numpy is not None)


def oip_name(onnx_type: str) -> str:
    """The OIP name of an onnxruntime type; a type OIP has no name for
    (a sequence, a map, a float8) keeps its onnxruntime name."""
    known = BY_ONNX.get(onnx_type)
    return known.oip if known is not None else onnx_type
