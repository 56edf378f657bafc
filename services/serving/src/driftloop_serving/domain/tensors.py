"""Tensors as the Open Inference Protocol names them: datatypes, shapes and
the checks a request must pass before a model sees it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from driftloop.platform.datatypes import DATATYPES
from driftloop.platform.errors import InvalidArgument

#: OIP v2 datatype name -> numpy dtype, for the datatypes serving carries.
DTYPES: dict[str, np.dtype] = {d.oip: np.dtype(d.numpy) for d in DATATYPES if d.numpy is not None}


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
