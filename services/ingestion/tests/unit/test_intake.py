"""The record and label use cases, with a fake publisher."""

from __future__ import annotations

import json

import pytest

from driftloop.platform.errors import Unavailable
from driftloop_ingestion.adapters.sqlite_store import MemorySchemaStore
from driftloop_ingestion.codec.converters import decode_json
from driftloop_ingestion.domain.bad_rate import BadRateWatch
from driftloop_ingestion.domain.recent import RecentIds
from driftloop_ingestion.domain.records import (
    BadRateAlert,
    DeadLetter,
    KafkaOrigin,
    Reason,
    ValidLabel,
    ValidRecord,
    dead_letter_id,
)
from driftloop_ingestion.service.catalog import StreamCatalog
from driftloop_ingestion.service.intake import RecordIntake, Status, Submission
from driftloop_ingestion.service.labels import LabelIntake, LabelSubmission

from ..conftest import events_spec, good_record


@pytest.fixture
def catalog() -> StreamCatalog:
    catalog = StreamCatalog(MemorySchemaStore())
    catalog.register(events_spec())
    return catalog


def make_intake(catalog, publisher, threshold: float = 0.5) -> RecordIntake:
    return RecordIntake(
        catalog,
        publisher,
        dedupe=RecentIds(1000, 60),
        seen=RecentIds(1000, float("inf")),
        watch=BadRateWatch(threshold, window=10, min_records=4, cooldown_s=60),
        clock=lambda: 1000.0,
    )


def sub(obj, stream: str = "events", offset: int = 0) -> Submission:
    data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    payload, error = decode_json(data, 1024)
    return Submission(data, stream, payload, error, origin=KafkaOrigin("raw", 0, offset))


async def test_results_are_per_record_in_order_and_match_what_is_published(
    catalog, publisher
) -> None:
    intake = make_intake(catalog, publisher)
    subs = [
        sub(good_record(0)),
        sub(b"{not json", offset=1),
        sub({**good_record(2), "kind": "z"}),
        sub(good_record(3), stream="nope"),
        sub({**good_record(4), "id": "r4"}),
    ]
    results = await intake.ingest(subs)
    assert [r.status for r in results] == [
        Status.ACCEPTED,
        Status.REJECTED,
        Status.REJECTED,
        Status.REJECTED,
        Status.ACCEPTED,
    ]
    assert [r.rejection.reason for r in results if r.rejection] == [
        Reason.MALFORMED,
        Reason.UNKNOWN_CATEGORY,
        Reason.UNKNOWN_STREAM,
    ]
    assert results[4].event_id == "r4"
    published = publisher.of(ValidRecord)
    assert [r.record_id for r in published] == [results[0].event_id, "r4"]
    dead = publisher.of(DeadLetter)
    assert [d.event_id for d in dead] == [r.event_id for r in results[1:4]]
    assert dead[0].original == b"{not json" and dead[0].origin == KafkaOrigin("raw", 0, 1)
    assert dead[1].field == "kind" and "'kind'" in dead[1].message


async def test_a_duplicate_id_within_the_window_is_published_once(catalog, publisher) -> None:
    intake = make_intake(catalog, publisher)
    record = {**good_record(1), "id": "same"}
    first = await intake.ingest([sub(record), sub(record)])
    second = await intake.ingest([sub(record)])
    assert [r.status for r in first + second] == [Status.ACCEPTED] + [Status.DUPLICATE] * 2
    assert len(publisher.of(ValidRecord)) == 1


async def test_nothing_counts_as_accepted_when_the_broker_fails(catalog, publisher) -> None:
    intake = make_intake(catalog, publisher)
    record = {**good_record(1), "id": "retry-me"}
    publisher.fail = True
    with pytest.raises(Unavailable, match="did not acknowledge"):
        await intake.ingest([sub(record)])
    publisher.fail = False
    assert [r.status for r in await intake.ingest([sub(record)])] == [Status.ACCEPTED]


async def test_a_high_bad_rate_raises_an_alert(catalog, publisher) -> None:
    intake = make_intake(catalog, publisher, threshold=0.4)
    await intake.ingest([sub(good_record(0)), sub({"user": "x"}), sub(b"[]"), sub(b"{")])
    [alert] = publisher.of(BadRateAlert)
    assert alert.stream == "events" and alert.rate == 0.75
    assert alert.rejected_by_reason == {"missing_field": 1, "malformed": 2}


async def test_labels_are_kept_whether_or_not_the_record_was_seen(catalog, publisher) -> None:
    seen = RecentIds(100, float("inf"))
    intake = make_intake(catalog, publisher)
    intake.seen = seen
    labels = LabelIntake(catalog, publisher, seen=seen)
    await intake.ingest([sub({**good_record(0), "id": "known"})])
    results = await labels.submit(
        [
            LabelSubmission(b"", "events", "known", 1),
            LabelSubmission(b"", "events", "unknown", 0, "2024-01-01T00:00:00Z"),
            LabelSubmission(b"x", "events", "known", 5),
            LabelSubmission(b"", "events", None, 1),
        ]
    )
    assert [r.status for r in results] == [Status.ACCEPTED] * 2 + [Status.REJECTED] * 2
    published = publisher.of(ValidLabel)
    assert [(lb.record_id, lb.record_seen) for lb in published] == [
        ("known", True),
        ("unknown", False),
    ]
    dead = [d for d in publisher.of(DeadLetter) if d.is_label]
    assert [(d.reason, d.field) for d in dead] == [
        (Reason.INVALID_LABEL, "label"),
        (Reason.MISSING_FIELD, "id"),
    ]
    again = await labels.submit([LabelSubmission(b"", "events", "unknown", 0, "2024-01-01")])
    assert again[0].event_id == results[1].event_id  # a redelivery keeps its id


async def test_record_and_label_dead_letters_keep_the_original_and_its_origin(
    catalog, publisher
) -> None:
    origin = KafkaOrigin("raw", 3, 7)
    record = Submission(b"{not json", "events", None, decode_json(b"{not json", 64)[1])
    record.record_id, record.origin, record.headers = "caller-1", origin, {"h": b"1"}
    await make_intake(catalog, publisher).ingest([record])
    label = LabelSubmission(b"x", "events", "r1", 5, origin=origin, headers={"h": b"2"})
    await LabelIntake(catalog, publisher, seen=RecentIds(10, 60)).submit([label])
    rec_dead, label_dead = publisher.of(DeadLetter)
    assert (rec_dead.original, rec_dead.caused_by, rec_dead.is_label) == (
        b"{not json",
        "caller-1",
        False,
    )
    assert (label_dead.original, label_dead.caused_by, label_dead.is_label) == (b"x", "", True)
    assert rec_dead.origin == label_dead.origin == origin
    assert (rec_dead.headers, label_dead.headers) == ({"h": b"1"}, {"h": b"2"})
    # The id derives from where it was read: the same when read again after a restart.
    assert rec_dead.event_id == label_dead.event_id == dead_letter_id(origin)
