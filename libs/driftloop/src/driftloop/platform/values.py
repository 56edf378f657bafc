"""The common ``Value`` message ⇄ plain Python values, for every service's
codec (a record's fields, a label).

>>> v = Value()
>>> set_value(v, 3)
>>> v.WhichOneof("kind"), to_python(v)
('int_value', 3)
>>> set_value(v, None)
>>> to_python(v) is None
True
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from driftloop.common.v1.common_pb2 import Value


def to_python(value: Value) -> Any:
    """A ``Value`` as a plain Python value (None for unset or null)."""
    kind = value.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return None
    if kind == "timestamp_value":
        return value.timestamp_value.ToDatetime(tzinfo=UTC)
    return getattr(value, kind)


def set_value(target: Value, v: Any) -> None:
    """Set ``target`` to ``v``: float, str, int, bool, datetime, else null."""
    t = type(v)
    if t is float:
        target.number_value = v
    elif t is str:
        target.string_value = v
    elif t is int:
        target.int_value = v
    elif t is bool:
        target.bool_value = v
    elif isinstance(v, datetime):
        target.timestamp_value.FromDatetime(v)
    else:
        target.null_value = True
