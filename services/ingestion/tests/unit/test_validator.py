"""Property tests of the compiled validator: records generated from a
generated schema pass; each single mutation fails with its own reason."""

from __future__ import annotations

import string
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftloop.platform.spec import FieldSpec, StreamSpec
from driftloop_ingestion.domain.records import Reason, Rejected
from driftloop_ingestion.domain.validator import compile_schema

NAMES = st.text(string.ascii_lowercase, min_size=1, max_size=8)


@st.composite
def field_specs(draw: Any, name: str) -> FieldSpec:
    kind = draw(st.sampled_from(["float", "int", "bool", "string", "categorical", "timestamp"]))
    spec: dict[str, Any] = {"name": name, "type": kind, "required": draw(st.booleans())}
    if kind in ("float", "int"):
        lo = draw(st.integers(-1000, 1000))
        spec["min"], spec["max"] = lo, lo + draw(st.integers(0, 1000))
    if kind == "string":
        spec["max_length"] = draw(st.integers(1, 20))
    if kind == "categorical":
        spec["categories"] = draw(st.lists(NAMES, min_size=1, max_size=5, unique=True))
    return FieldSpec.model_validate(spec)


@st.composite
def schemas(draw: Any) -> StreamSpec:
    names = draw(
        st.lists(
            NAMES.filter(lambda n: n not in ("id", "stream")), min_size=1, max_size=6, unique=True
        )
    )
    fields = [FieldSpec(name="entity", type="string", max_length=32)]
    fields += [draw(field_specs(n)) for n in names if n != "entity"]
    return StreamSpec(name="s", entity_field="entity", fields=tuple(fields))


def value_for(draw: Any, f: FieldSpec) -> Any:
    if f.type == "float":
        return draw(st.floats(f.min, f.max, allow_nan=False))
    if f.type == "int":
        return draw(st.integers(int(f.min), int(f.max)))
    if f.type == "bool":
        return draw(st.booleans())
    if f.type == "string":
        return draw(st.text(max_size=f.max_length))
    if f.type == "categorical":
        return draw(st.sampled_from(f.categories))
    stamp = draw(st.datetimes(datetime(1971, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)))
    return stamp.isoformat()


@st.composite
def schema_and_record(draw: Any) -> tuple[StreamSpec, dict[str, Any]]:
    spec = draw(schemas())
    record = {f.name: value_for(draw, f) for f in spec.fields if f.required or draw(st.booleans())}
    return spec, record


@given(schema_and_record())
def test_every_valid_record_passes(case: tuple[StreamSpec, dict[str, Any]]) -> None:
    spec, record = case
    valid = compile_schema(spec).validate(record)
    assert set(valid.fields) == set(record)
    assert valid.entity_id == record["entity"]


def mutate(draw: Any, spec: StreamSpec, record: dict[str, Any]) -> tuple[Reason, str]:
    """Apply one mutation to ``record``; return the reason and field it must fail with."""
    f = draw(st.sampled_from(spec.fields))
    options = ["unknown_field", "wrong_type"]
    if f.required:
        options.append("missing")
    if f.type in ("float", "int"):
        options.append("out_of_range")
    if f.type == "string":
        options.append("too_long")
    if f.type == "categorical":
        options.append("unknown_category")
    if f.type == "timestamp":
        options.append("bad_timestamp")
    how = draw(st.sampled_from(options))
    if how == "unknown_field":
        record["zz_" + draw(NAMES)] = 1
        return Reason.UNKNOWN_FIELD, ""
    if how == "missing":
        record.pop(f.name, None)
        return Reason.MISSING_FIELD, f.name
    if how == "out_of_range":
        record[f.name] = draw(st.sampled_from([f.max + 1, f.min - 1]))
    elif how == "too_long":
        record[f.name] = "x" * (f.max_length + draw(st.integers(1, 5)))
    elif how == "unknown_category":
        record[f.name] = draw(NAMES.filter(lambda c: c not in f.categories))
    elif how == "bad_timestamp":
        record[f.name] = draw(st.sampled_from(["yesterday", "2024-13-01", "", "1e999"]))
    else:
        wrong = {
            "float": ["1.0", True, [1]],
            "int": ["1", 1.5, False],
            "bool": [1, "true"],
            "string": [1, 2.5, True],
            "categorical": [1.5, True, ["a"]],
            "timestamp": [True, [1], {"t": 1}],
        }[f.type]
        record[f.name] = draw(st.sampled_from(wrong))
        return Reason.WRONG_TYPE, f.name
    reason = {
        "out_of_range": Reason.OUT_OF_RANGE,
        "too_long": Reason.TOO_LONG,
        "unknown_category": Reason.UNKNOWN_CATEGORY,
        "bad_timestamp": Reason.INVALID_TIMESTAMP,
    }[how]
    return reason, f.name


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_mutated_record_fails_with_the_right_reason(data: st.DataObject) -> None:
    spec, record = data.draw(schema_and_record())
    reason, field = mutate(data.draw, spec, record)
    with pytest.raises(Rejected) as caught:
        compile_schema(spec).validate(record)
    assert caught.value.reason == reason, caught.value.message
    if field:
        assert caught.value.field == field
        assert repr(field) in caught.value.message


def test_categorical_accepts_numeric_codes_and_int_accepts_integral_floats() -> None:
    spec = StreamSpec(
        name="s",
        entity_field="e",
        fields=[
            {"name": "e", "type": "int"},
            {"name": "c", "type": "categorical", "categories": ["0", "1"]},
        ],
    )
    valid = compile_schema(spec).validate({"e": 7.0, "c": 1})
    assert valid.fields == {"e": 7, "c": "1"} and valid.entity_id == "7"


def test_ids_come_from_the_id_field_or_the_caller() -> None:
    spec = StreamSpec(name="s", entity_field="e", fields=[{"name": "e", "type": "string"}])
    v = compile_schema(spec)
    assert v.validate({"e": "x", "id": 42}).record_id == "42"
    assert v.validate({"e": "x", "id": "a"}, record_id="b").record_id == "b"
    assert v.validate({"e": "x"}).id_given is False
    with pytest.raises(Rejected) as caught:
        compile_schema(spec, max_id_length=3).validate({"e": "x", "id": "abcd"})
    assert caught.value.reason == Reason.TOO_LONG and caught.value.field == "id"
    # The same limit for an id given beside the record (gRPC RecordInput.id).
    with pytest.raises(Rejected) as caught:
        compile_schema(spec, max_id_length=3).validate({"e": "x"}, record_id="x" * 10_000)
    assert caught.value.reason == Reason.TOO_LONG


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_floats_are_out_of_range(value: float) -> None:
    spec = StreamSpec(
        name="s",
        entity_field="e",
        fields=[{"name": "e", "type": "string"}, {"name": "x", "type": "float"}],
    )
    with pytest.raises(Rejected) as caught:
        compile_schema(spec).validate({"e": "a", "x": value})
    assert caught.value.reason == Reason.OUT_OF_RANGE


def test_a_non_object_is_malformed() -> None:
    spec = StreamSpec(name="s", entity_field="e", fields=[{"name": "e", "type": "string"}])
    with pytest.raises(Rejected) as caught:
        compile_schema(spec).validate([1, 2])
    assert caught.value.reason == Reason.MALFORMED
