"""The hand-written encoding of RecordValidated (and its fields) decodes to
exactly the message the protobuf API builds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given
from hypothesis import strategies as st

from driftloop.ingestion.v1 import events_pb2 as ev
from driftloop.platform.values import set_value
from driftloop_ingestion.codec.converters import record_event
from driftloop_ingestion.codec.wire import FieldsEncoder, RecordEncoder
from driftloop_ingestion.domain.records import GrpcOrigin, KafkaOrigin, ValidRecord

values = st.one_of(
    st.floats(allow_nan=False),
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.text(max_size=200),
    st.datetimes(datetime(1970, 1, 1), datetime(2200, 1, 1), timezones=st.just(UTC)),
    st.none(),
)
encoder = FieldsEncoder(cache_limit=50)  # shared: exercises the caches and their reset


@given(st.dictionaries(st.text(min_size=1, max_size=150), values, max_size=12))
def test_encoded_fields_match_the_protobuf_api(fields: dict[str, Any]) -> None:
    expected = ev.RecordValidated(stream="s", entity_id="e")
    for name, v in fields.items():
        set_value(expected.fields[name], v)
    head = ev.RecordValidated(stream="s", entity_id="e").SerializeToString()
    got = ev.RecordValidated.FromString(head + encoder.encode(fields))
    assert got == expected
    assert encoder.encode(fields) == encoder.encode(fields)  # cached entries are the same


origins = st.one_of(
    st.none(),
    st.builds(
        KafkaOrigin, st.text(max_size=30), st.integers(0, 2**31 - 1), st.integers(0, 2**63 - 1)
    ),
    st.builds(
        GrpcOrigin,
        st.text(max_size=30),
        st.text(max_size=30),
        st.text(max_size=30),
        st.integers(0, 2**63 - 1),
    ),
)
records = st.builds(
    ValidRecord,
    record_id=st.text(min_size=1, max_size=40),
    id_given=st.booleans(),
    stream=st.text(max_size=20),
    schema_version=st.integers(1, 2**31 - 1),
    entity_id=st.text(max_size=20),
    event_time=st.one_of(
        st.none(), st.datetimes(datetime(1970, 1, 1), datetime(2200, 1, 1), timezones=st.just(UTC))
    ),
    fields=st.dictionaries(st.text(min_size=1, max_size=20), values, max_size=8),
    origin=origins,
)


@given(records)
def test_encoded_records_match_the_protobuf_api(rec: ValidRecord) -> None:
    now = Timestamp()
    now.GetCurrentTime()
    expected = record_event(rec, "ingestion", now)
    got = ev.RecordValidated.FromString(RecordEncoder(encoder, "ingestion", now).encode(rec))
    assert got == expected
