"""A stream schema compiled once into a fast record validator.

Compiling turns each field spec into a small closure that checks and
normalises one value, so validating a record is one dict lookup and one call
per field: no per-record interpretation of the schema.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from driftloop.platform.spec import FieldSpec, StreamSpec
from driftloop_ingestion.domain.records import Reason, Rejected, ValidRecord
from driftloop_ingestion.domain.timestamps import parse_timestamp

Check = Callable[[Any], Any]

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: Keys a record may carry besides its schema's fields (routing only).
ROUTING_KEYS = frozenset({"stream"})


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _wrong(name: str, expected: str, value: Any) -> Rejected:
    return Rejected(
        Reason.WRONG_TYPE, name, f"field {name!r}: expected {expected}, got {_type_name(value)}"
    )


def _range_check(name: str, lo: float | None, hi: float | None) -> Callable[[float], None]:
    def check(x: float) -> None:
        if (lo is not None and x < lo) or (hi is not None and x > hi):
            raise Rejected(
                Reason.OUT_OF_RANGE, name, f"field {name!r}: {x!r} is outside [{lo}, {hi}]"
            )

    return check


def _float_check(spec: FieldSpec) -> Check:
    name, in_range = spec.name, _range_check(spec.name, spec.min, spec.max)
    bounded = spec.min is not None or spec.max is not None

    def check(v: Any) -> float:
        t = type(v)
        if t is float:
            if not math.isfinite(v):
                raise Rejected(Reason.OUT_OF_RANGE, name, f"field {name!r}: {v!r} is not finite")
        elif t is int:
            v = float(v)
        else:
            raise _wrong(name, "a number", v)
        if bounded:
            in_range(v)
        return v

    return check


def _int_check(spec: FieldSpec) -> Check:
    name, in_range = spec.name, _range_check(spec.name, spec.min, spec.max)
    bounded = spec.min is not None or spec.max is not None

    def check(v: Any) -> int:
        t = type(v)
        if t is float and v.is_integer():
            v = int(v)
        elif t is not int:
            raise _wrong(name, "an integer", v)
        if not INT64_MIN <= v <= INT64_MAX:
            raise Rejected(Reason.OUT_OF_RANGE, name, f"field {name!r}: {v} overflows int64")
        if bounded:
            in_range(v)
        return v

    return check


def _bool_check(spec: FieldSpec) -> Check:
    name = spec.name

    def check(v: Any) -> bool:
        if type(v) is not bool:
            raise _wrong(name, "a boolean", v)
        return v

    return check


def _string_check(spec: FieldSpec, default_max: int) -> Check:
    name, limit = spec.name, spec.max_length or default_max

    def check(v: Any) -> str:
        if type(v) is not str:
            raise _wrong(name, "a string", v)
        if len(v) > limit:
            raise Rejected(
                Reason.TOO_LONG, name, f"field {name!r}: {len(v)} characters, limit {limit}"
            )
        return v

    return check


def _categorical_check(spec: FieldSpec) -> Check:
    name, allowed = spec.name, frozenset(spec.categories)

    def check(v: Any) -> str:
        t = type(v)
        # Numeric codes are accepted for numeric-looking categories ("0".."4").
        s = v if t is str else str(v) if t is int else None
        if s is None:
            raise _wrong(name, "a category (string)", v)
        if s not in allowed:
            shown = s if len(s) <= 64 else s[:64] + "..."
            raise Rejected(
                Reason.UNKNOWN_CATEGORY,
                name,
                f"field {name!r}: {shown!r} is not one of {sorted(allowed)}",
            )
        return s

    return check


def _timestamp_check(spec: FieldSpec) -> Check:
    name = spec.name

    def check(v: Any) -> Any:
        if type(v) is bool:
            raise _wrong(name, "a timestamp", v)
        try:
            return parse_timestamp(v)
        except TypeError:
            raise _wrong(name, "a timestamp (ISO-8601 or epoch seconds)", v) from None
        except ValueError as exc:
            raise Rejected(Reason.INVALID_TIMESTAMP, name, f"field {name!r}: {exc}") from None

    return check


def compile_field(spec: FieldSpec, max_string_length: int) -> Check:
    """The check of one field: returns the normalised value or raises ``Rejected``."""
    if spec.type == "float":
        return _float_check(spec)
    if spec.type == "int":
        return _int_check(spec)
    if spec.type == "bool":
        return _bool_check(spec)
    if spec.type == "string":
        return _string_check(spec, max_string_length)
    if spec.type == "categorical":
        return _categorical_check(spec)
    return _timestamp_check(spec)


class Validator:
    """Validates records of one stream version. Build with :func:`compile_schema`.

    >>> from driftloop.platform.spec import StreamSpec
    >>> spec = StreamSpec(name="s", entity_field="user", fields=[
    ...     {"name": "user", "type": "string"}, {"name": "x", "type": "float", "max": 1}])
    >>> compile_schema(spec).validate({"user": "u1", "x": 0.5}).fields
    {'user': 'u1', 'x': 0.5}
    >>> compile_schema(spec).validate({"user": "u1", "x": 2})
    Traceback (most recent call last):
    ...
    driftloop_ingestion.domain.records.Rejected: field 'x': 2.0 is outside [None, 1.0]
    """

    def __init__(self, spec: StreamSpec, max_string_length: int, max_id_length: int) -> None:
        self.spec = spec
        self.stream = spec.name
        self.version = spec.version
        self._checks = [
            (f.name, f.required, compile_field(f, max_string_length)) for f in spec.fields
        ]
        self._entity = spec.entity_field
        self._time = spec.event_time_field
        self._id = spec.id_field
        self._max_id = max_id_length
        self._known = frozenset(f.name for f in spec.fields) | ROUTING_KEYS | {spec.id_field}

    def validate(self, obj: Any, record_id: str = "") -> ValidRecord:
        """Check ``obj`` (a parsed JSON object); ``record_id`` is the caller's id
        when it came outside the record (gRPC). Raises ``Rejected``."""
        if type(obj) is not dict:
            raise Rejected(
                Reason.MALFORMED, "", f"a record must be a JSON object, got {_type_name(obj)}"
            )
        out: dict[str, Any] = {}
        for name, required, check in self._checks:
            v = obj.get(name)
            if v is None:
                if required:
                    raise Rejected(
                        Reason.MISSING_FIELD, name, f"required field {name!r} is missing"
                    )
                continue
            out[name] = check(v)
        if len(obj) != len(out):
            for key in obj:
                if key not in self._known and obj[key] is not None:
                    raise Rejected(
                        Reason.UNKNOWN_FIELD, str(key), f"field {key!r} is not in the schema"
                    )
        entity = out.get(self._entity)
        if entity is None:
            raise Rejected(
                Reason.MISSING_FIELD, self._entity, f"entity field {self._entity!r} is missing"
            )
        rid = self._checked_id(record_id) if record_id else self._record_id(obj)
        return ValidRecord(
            record_id=rid,
            id_given=bool(rid),
            stream=self.stream,
            schema_version=self.version,
            entity_id=entity if type(entity) is str else str(entity),
            event_time=out.get(self._time) if self._time else None,
            fields=out,
        )

    def _record_id(self, obj: dict[str, Any]) -> str:
        rid = obj.get(self._id)
        if rid is None or rid == "":
            return ""
        if type(rid) is int:
            rid = str(rid)
        if type(rid) is not str:
            raise _wrong(self._id, "a string or integer id", rid)
        return self._checked_id(rid)

    def _checked_id(self, rid: str) -> str:
        # One limit for every intake path: an id in the record or given beside it.
        if len(rid) > self._max_id:
            raise Rejected(
                Reason.TOO_LONG,
                self._id,
                f"id {self._id!r}: {len(rid)} characters, limit {self._max_id}",
            )
        return rid


def compile_schema(
    spec: StreamSpec, max_string_length: int = 4096, max_id_length: int = 256
) -> Validator:
    """Compile a stream schema into a :class:`Validator`."""
    return Validator(spec, max_string_length, max_id_length)
