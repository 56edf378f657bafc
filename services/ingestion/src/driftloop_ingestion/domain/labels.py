"""Checking a ground-truth label against its stream's label type."""

from __future__ import annotations

import math
from typing import Any

from driftloop.platform.spec import LabelSpec
from driftloop_ingestion.domain.records import Reason, Rejected


def _bad(message: str) -> Rejected:
    return Rejected(Reason.INVALID_LABEL, "label", f"field 'label': {message}")


def check_label(spec: LabelSpec | None, stream: str, value: Any) -> Any:
    """The normalised label value, or ``Rejected`` (INVALID_LABEL, field ``label``).

    >>> check_label(LabelSpec(type="int", min=0, max=1), "s", 1.0)
    1
    """
    if spec is None:
        raise _bad(f"stream {stream!r} declares no label")
    t = type(value)
    if value is None:
        raise Rejected(Reason.MISSING_FIELD, "label", "required field 'label' is missing")
    if spec.type == "bool":
        if t is not bool:
            raise _bad(f"expected a boolean, got {t.__name__}")
        return value
    if spec.type == "categorical":
        s = value if t is str else str(value) if t is int else None
        if s is None or s not in spec.categories:
            raise _bad(f"{value!r} is not one of {list(spec.categories)}")
        return s
    if t is bool or t not in (int, float):
        raise _bad(f"expected a number, got {t.__name__}")
    if spec.type == "int":
        if t is float and not value.is_integer():
            raise _bad(f"expected an integer, got {value!r}")
        value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):
            raise _bad(f"{value!r} is not finite")
    if (spec.min is not None and value < spec.min) or (spec.max is not None and value > spec.max):
        raise _bad(f"{value!r} is outside [{spec.min}, {spec.max}]")
    return value
