"""Tensors as the Open Inference Protocol names them: datatypes, shapes and
the checks a request must pass before a model sees it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from driftloop.platform.errors import InvalidArgument

#: OIP v2 datatype name -> numpy dtype (the ones driftloop models use).
DTYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype(np.bool_),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
}


@dataclass(frozen=True)
class TensorSpec:
    """A model input or output: name, OIP datatype and shape (-1: any size)."""

    name: str
    datatype: str
    shape: tuple[int, ...]

    def check(self, datatype: str, shape: tuple[int, ...]) -> None:
        """Raise :class:`InvalidArgument` naming this tensor unless a request's
        datatype and shape fit it."""
        if datatype != self.datatype:
            raise InvalidArgument(
                f"input {self.name!r}: datatype {datatype} does not match the model's "
                f"{self.datatype}"
            )
        ok = len(shape) == len(self.shape)
        if ok:
            for got, want in zip(shape, self.shape, strict=True):
                if want >= 0 and got != want:
                    ok = False
        if not ok:
            raise InvalidArgument(
                f"input {self.name!r}: shape {list(shape)} does not match the model's "
                f"{list(self.shape)}"
            )


def element_count(name: str, shape: tuple[int, ...]) -> int:
    """Number of elements of a tensor of ``shape``; negative dims are invalid."""
    count = 1
    for dim in shape:
        if dim < 0:
            raise InvalidArgument(f"input {name!r}: shape {list(shape)} has a negative dimension")
        count *= dim
    return count
