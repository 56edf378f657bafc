"""gRPC intake, labels and schema persistence against a real ingestion
process and the real embedded broker: what callers are told is exactly what
reaches Kafka."""

from __future__ import annotations

import json

import grpc
import pytest

from driftloop.common.v1.common_pb2 import Value
from driftloop.ingestion.v1 import events_pb2 as ev
from driftloop.ingestion.v1 import ingestion_service_pb2 as api
from driftloop.ingestion.v1.ingestion_service_pb2_grpc import IngestionServiceStub
from driftloop.platform import topics
from driftloop.platform.testing import agen, end_offsets, produce_raw, read_from, unique

from ..conftest import good_record, start_ingestion, write_spec

pytestmark = pytest.mark.integration

ACCEPTED, REJECTED, DUPLICATE = (
    api.RECORD_STATUS_ACCEPTED,
    api.RECORD_STATUS_REJECTED,
    api.RECORD_STATUS_DUPLICATE,
)
VALIDATED, DEAD, LABELS = (
    topics.RECORDS_VALIDATED.name,
    topics.RECORDS_DEADLETTER.name,
    topics.LABELS.name,
)


@pytest.fixture(scope="module")
def service(kafka, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ingestion")
    base = unique("grpc").replace("-", "_")
    # One stream per test: the topics keep every earlier test's events.
    streams = {t: f"{base}_{t}" for t in ("unary", "stream", "dup", "labels")}
    proc, address = start_ingestion(kafka, tmp, write_spec(tmp / "spec.yaml", *streams.values()))
    yield streams, address
    assert proc.terminate() == 0, proc.tail()


def of_stream(kind, stream):
    return lambda r: kind.FromString(r.value).stream == stream


def mixed(stream: str, n: int, tag: str) -> list[api.RecordInput]:
    """Every third record breaks a different rule; ids are unique per tag."""
    out = []
    for i in range(n):
        record = good_record(i)
        if i % 3 == 1:
            record["count"] = -5
        elif i % 3 == 2:
            record.pop("user")
        out.append(api.RecordInput(id=f"{tag}-{i}", json=json.dumps(record)))
    return out


async def assert_results_match_kafka(kafka, stream, reply, starts) -> None:
    accepted = {r.event_id for r in reply.results if r.status == ACCEPTED}
    rejected = {r.event_id for r in reply.results if r.status == REJECTED}
    records = await read_from(
        kafka,
        VALIDATED,
        starts[VALIDATED],
        count=len(accepted),
        predicate=of_stream(ev.RecordValidated, stream),
    )
    letters = await read_from(
        kafka,
        DEAD,
        starts[DEAD],
        count=len(rejected),
        predicate=of_stream(ev.RecordDeadLettered, stream),
    )
    assert sorted(ev.RecordValidated.FromString(r.value).meta.event_id for r in records) == sorted(
        accepted
    )
    dead = [ev.RecordDeadLettered.FromString(r.value) for r in letters]
    assert sorted(d.meta.event_id for d in dead) == sorted(rejected)
    by_id = {r.event_id: r for r in reply.results}
    for d in dead:
        result = by_id[d.meta.event_id]
        assert (d.reason, d.field, d.message) == (result.reason, result.field, result.message)
        assert d.origin.grpc.index == result.index and d.origin.grpc.peer
        assert api.RecordInput.FromString(d.original).id == f"{d.meta.causation_id}"


async def offsets(kafka) -> dict:
    return {t: await end_offsets(kafka, t) for t in (VALIDATED, DEAD, LABELS)}


async def test_unary_results_match_what_reaches_kafka(kafka, service) -> None:
    streams, address = service
    stream = streams["unary"]
    starts = await offsets(kafka)
    async with grpc.aio.insecure_channel(address) as channel:
        reply = await IngestionServiceStub(channel).IngestRecords(
            api.IngestRecordsRequest(stream=stream, records=mixed(stream, 30, "unary"))
        )
    assert (reply.accepted, reply.rejected) == (10, 20)
    await assert_results_match_kafka(kafka, stream, reply, starts)


async def test_streaming_results_match_what_reaches_kafka(kafka, service) -> None:
    streams, address = service
    stream = streams["stream"]
    starts = await offsets(kafka)
    requests = [
        api.IngestRecordsRequest(stream=stream, records=mixed(stream, 60, f"s{b}"))
        for b in range(20)
    ]
    async with grpc.aio.insecure_channel(address) as channel:
        reply = await IngestionServiceStub(channel).StreamRecords(agen(requests))
    assert (reply.accepted, reply.rejected, len(reply.results)) == (400, 800, 1200)
    assert [r.index for r in reply.results] == list(range(1200))
    await assert_results_match_kafka(kafka, stream, reply, starts)


async def test_a_duplicate_id_within_the_window_yields_one_record(kafka, service) -> None:
    streams, address = service
    stream = streams["dup"]
    starts = await offsets(kafka)
    record = api.RecordInput(id="dup-1", json=json.dumps(good_record(1)))
    async with grpc.aio.insecure_channel(address) as channel:
        stub = IngestionServiceStub(channel)
        first = await stub.IngestRecords(
            api.IngestRecordsRequest(stream=stream, records=[record, record])
        )
        second = await stub.StreamRecords(
            agen([api.IngestRecordsRequest(stream=stream, records=[record])])
        )
    assert [r.status for r in [*first.results, *second.results]] == [ACCEPTED, DUPLICATE, DUPLICATE]
    # The same id through the raw topic is a duplicate too.
    await produce_raw(
        kafka,
        topics.RECORDS_RAW.name,
        [
            (b"u1", json.dumps({**good_record(1), "id": "dup-1", "stream": stream}).encode()),
            (b"u2", json.dumps({**good_record(2), "id": "after-dup", "stream": stream}).encode()),
        ],
    )
    records = await read_from(
        kafka,
        VALIDATED,
        starts[VALIDATED],
        count=2,
        predicate=of_stream(ev.RecordValidated, stream),
    )
    ids = [ev.RecordValidated.FromString(r.value).meta.event_id for r in records]
    assert sorted(ids) == ["after-dup", "dup-1"]


async def test_labels_from_grpc_and_the_raw_topic(kafka, service) -> None:
    streams, address = service
    stream = streams["labels"]
    starts = await offsets(kafka)
    async with grpc.aio.insecure_channel(address) as channel:
        stub = IngestionServiceStub(channel)
        await stub.IngestRecords(
            api.IngestRecordsRequest(
                stream=stream,
                records=[api.RecordInput(id="lab-1", json=json.dumps(good_record(1)))],
            )
        )
        reply = await stub.SubmitLabels(
            api.SubmitLabelsRequest(
                stream=stream,
                labels=[
                    api.LabelInput(id="lab-1", label=Value(int_value=1)),
                    api.LabelInput(id="lab-early", label=Value(int_value=0)),
                    api.LabelInput(id="lab-1", label=Value(int_value=7)),
                ],
            )
        )
    assert [r.status for r in reply.results] == [ACCEPTED, ACCEPTED, REJECTED]
    await produce_raw(
        kafka,
        topics.LABELS_RAW.name,
        [
            (
                b"lab-1",
                json.dumps(
                    {
                        "id": "lab-1",
                        "label": 0,
                        "stream": stream,
                        "label_time": "2024-01-01T00:00:00Z",
                    }
                ).encode(),
            ),
            (b"x", json.dumps({"id": "lab-raw", "label": "yes", "stream": stream}).encode()),
            (b"x", b"not json"),
        ],
    )
    labels = await read_from(
        kafka, LABELS, starts[LABELS], count=3, predicate=of_stream(ev.LabelReceived, stream)
    )
    got = sorted(
        (e.record_id, e.label.int_value, e.record_seen)
        for e in (ev.LabelReceived.FromString(r.value) for r in labels)
    )
    assert got == [("lab-1", 0, True), ("lab-1", 1, True), ("lab-early", 0, False)]
    letters = await read_from(
        kafka,
        DEAD,
        starts[DEAD],
        count=2,
        predicate=lambda r: (
            ev.RecordDeadLettered.FromString(r.value).is_label
            and ev.RecordDeadLettered.FromString(r.value).stream in (stream, "")
        ),
    )
    reasons = sorted(ev.RecordDeadLettered.FromString(r.value).reason for r in letters)
    assert ev.REJECT_REASON_INVALID_LABEL in reasons


async def test_registered_streams_survive_a_restart(kafka, tmp_path) -> None:
    spec = write_spec(tmp_path / "spec.yaml", unique("base").replace("-", "_"))
    proc, address = start_ingestion(kafka, tmp_path, spec)
    name = unique("reg").replace("-", "_")
    try:
        async with grpc.aio.insecure_channel(address) as channel:
            stub = IngestionServiceStub(channel)
            schema = (await stub.ListStreams(api.ListStreamsRequest())).streams[0]
            schema.name = name
            await stub.RegisterStream(api.RegisterStreamRequest(schema=schema))
            schema.fields.add(name="extra", type=api.FIELD_TYPE_INT, required=True)
            reply = await stub.RegisterStream(api.RegisterStreamRequest(schema=schema))
            assert (reply.schema.version, reply.new_version) == (2, True)
    finally:
        assert proc.terminate() == 0, proc.tail()
    proc, address = start_ingestion(kafka, tmp_path, spec)
    try:
        async with grpc.aio.insecure_channel(address) as channel:
            stub = IngestionServiceStub(channel)
            newest = await stub.GetStream(api.GetStreamRequest(name=name))
            first = await stub.GetStream(api.GetStreamRequest(name=name, version=1))
            record = api.RecordInput(json=json.dumps({**good_record(1), "extra": 3}))
            reply = await stub.IngestRecords(
                api.IngestRecordsRequest(stream=name, records=[record])
            )
        assert newest.version == 2 and [f.name for f in newest.fields][-1] == "extra"
        assert first.version == 1 and "extra" not in [f.name for f in first.fields]
        assert reply.results[0].status == ACCEPTED
    finally:
        assert proc.terminate() == 0, proc.tail()
