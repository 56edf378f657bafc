"""The real servicer on an in-process grpc.aio server (with the platform's
interceptor), over a fake publisher."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import grpc
import pytest

from driftloop.common.v1.common_pb2 import Value
from driftloop.ingestion.v1 import events_pb2 as ev
from driftloop.ingestion.v1 import ingestion_service_pb2 as api
from driftloop.ingestion.v1.ingestion_service_pb2_grpc import (
    IngestionServiceStub,
    add_IngestionServiceServicer_to_server,
)
from driftloop.platform.grpc_server import GrpcServer
from driftloop.platform.settings import GrpcSettings
from driftloop.platform.testing import agen, free_port
from driftloop_ingestion.adapters.sqlite_store import MemorySchemaStore
from driftloop_ingestion.codec.converters import spec_to_proto
from driftloop_ingestion.domain.bad_rate import BadRateWatch
from driftloop_ingestion.domain.recent import RecentIds
from driftloop_ingestion.domain.records import DeadLetter, GrpcOrigin, ValidLabel, ValidRecord
from driftloop_ingestion.entrypoints.grpc_api import SERVICE, IngestionServicer
from driftloop_ingestion.service.catalog import StreamCatalog
from driftloop_ingestion.service.intake import RecordIntake
from driftloop_ingestion.service.labels import LabelIntake
from driftloop_ingestion.settings import IngestionSettings

from ..conftest import events_spec, good_record

ACCEPTED, REJECTED, DUPLICATE = (
    api.RECORD_STATUS_ACCEPTED,
    api.RECORD_STATUS_REJECTED,
    api.RECORD_STATUS_DUPLICATE,
)


@pytest.fixture
async def stub(publisher) -> AsyncIterator[IngestionServiceStub]:
    settings = IngestionSettings(max_batch_records=50, max_record_bytes=512)
    catalog = StreamCatalog(MemorySchemaStore())
    catalog.register(events_spec())
    seen = RecentIds(1000, float("inf"))
    records = RecordIntake(
        catalog,
        publisher,
        dedupe=RecentIds(1000, 60),
        seen=seen,
        watch=BadRateWatch(0.9, 1000, 1000, 60),
    )
    labels = LabelIntake(catalog, publisher, seen=seen)
    server = GrpcServer(GrpcSettings(port=free_port()), 0)
    server.add(
        add_IngestionServiceServicer_to_server,
        IngestionServicer(records, labels, catalog, settings),
        SERVICE,
    )
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield IngestionServiceStub(channel)
    await server.stop()


def as_json(obj: dict, rid: str = "") -> api.RecordInput:
    return api.RecordInput(id=rid, json=json.dumps(obj))


def mixed_batch(start: int) -> list[api.RecordInput]:
    fields = api.FieldsPayload(
        values={
            "user": Value(string_value="typed"),
            "amount": Value(int_value=3),
            "count": Value(number_value=2.0),
            "kind": Value(string_value="b"),
        }
    )
    return [
        as_json(good_record(start)),
        as_json({**good_record(start), "amount": -1}),
        api.RecordInput(id=f"typed-{start}", fields=fields),
        api.RecordInput(json="{oops"),
        as_json({**good_record(start), "user": "x" * 600}),  # over max_record_bytes
        api.RecordInput(),
    ]


def check_against_published(results, publisher) -> None:
    """Accepted results are exactly the published records, rejected ones exactly
    the dead letters, in order."""
    accepted = [r.event_id for r in results if r.status == ACCEPTED]
    rejected = [r.event_id for r in results if r.status == REJECTED]
    assert [r.record_id for r in publisher.of(ValidRecord)] == accepted
    assert [d.event_id for d in publisher.of(DeadLetter)] == rejected
    assert [r.index for r in results] == list(range(len(results)))


async def test_unary_mixed_batch(stub, publisher) -> None:
    reply = await stub.IngestRecords(
        api.IngestRecordsRequest(stream="events", records=mixed_batch(0))
    )
    assert [r.status for r in reply.results] == [ACCEPTED, REJECTED, ACCEPTED] + [REJECTED] * 3
    assert [r.reason for r in reply.results if r.status == REJECTED] == [
        ev.REJECT_REASON_OUT_OF_RANGE,
        ev.REJECT_REASON_MALFORMED,
        ev.REJECT_REASON_OVERSIZED,
        ev.REJECT_REASON_MALFORMED,
    ]
    assert reply.results[1].field == "amount" and "'amount'" in reply.results[1].message
    assert (reply.accepted, reply.rejected, reply.duplicates) == (2, 4, 0)
    check_against_published(reply.results, publisher)
    typed = publisher.of(ValidRecord)[1]
    assert typed.record_id == "typed-0" and typed.fields["amount"] == 3.0
    dead = publisher.of(DeadLetter)[0]
    assert isinstance(dead.origin, GrpcOrigin) and dead.origin.position == 1
    assert dead.origin.method.endswith("/IngestRecords")


async def test_streaming_mixed_batches_with_a_duplicate(stub, publisher) -> None:
    requests = [api.IngestRecordsRequest(stream="events", records=mixed_batch(i)) for i in range(5)]
    requests.append(
        api.IngestRecordsRequest(stream="events", records=[as_json(good_record(9), "typed-0")])
    )
    reply = await stub.StreamRecords(agen(requests))
    assert len(reply.results) == 31
    assert (reply.accepted, reply.rejected, reply.duplicates) == (10, 20, 1)
    assert reply.results[30].status == DUPLICATE and reply.results[30].event_id == "typed-0"
    check_against_published(reply.results, publisher)
    assert [d.origin.position for d in publisher.of(DeadLetter)][:4] == [1, 3, 4, 5]


async def test_limits_and_unknown_streams_are_clear_errors(stub, publisher) -> None:
    too_many = [as_json(good_record(i)) for i in range(51)]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.IngestRecords(api.IngestRecordsRequest(stream="events", records=too_many))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "records: 51 records" in caught.value.details()
    reply = await stub.IngestRecords(
        api.IngestRecordsRequest(stream="nope", records=[as_json(good_record(1))])
    )
    assert reply.results[0].reason == ev.REJECT_REASON_UNKNOWN_STREAM
    assert reply.results[0].field == "stream"


async def test_register_get_and_list_streams(stub) -> None:
    schema = spec_to_proto(events_spec("clicks"))
    first = await stub.RegisterStream(api.RegisterStreamRequest(schema=schema))
    assert (first.schema.version, first.new_version) == (1, True)
    schema.fields.add(name="extra", type=api.FIELD_TYPE_FLOAT, required=False)
    compatible = await stub.RegisterStream(api.RegisterStreamRequest(schema=schema))
    assert (compatible.schema.version, compatible.new_version) == (1, False)
    schema.fields.add(name="needed", type=api.FIELD_TYPE_INT, required=True)
    breaking = await stub.RegisterStream(api.RegisterStreamRequest(schema=schema))
    assert (breaking.schema.version, breaking.new_version) == (2, True)
    old = await stub.GetStream(api.GetStreamRequest(name="clicks", version=1))
    assert [f.name for f in old.fields][-1] == "extra"
    listed = await stub.ListStreams(api.ListStreamsRequest())
    assert [(s.name, s.version) for s in listed.streams] == [("clicks", 2), ("events", 1)]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetStream(api.GetStreamRequest(name="missing"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    bad = spec_to_proto(events_spec("bad"))
    bad.entity_field = "nobody"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.RegisterStream(api.RegisterStreamRequest(schema=bad))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "entity_field 'nobody'" in caught.value.details()


async def test_records_then_labels(stub, publisher) -> None:
    await stub.IngestRecords(
        api.IngestRecordsRequest(stream="events", records=[as_json(good_record(1), "r1")])
    )
    reply = await stub.SubmitLabels(
        api.SubmitLabelsRequest(
            stream="events",
            labels=[
                api.LabelInput(id="r1", label=Value(int_value=1)),
                api.LabelInput(id="later", label=Value(number_value=0.0)),
                api.LabelInput(id="r1", label=Value(string_value="yes")),
            ],
        )
    )
    assert [r.status for r in reply.results] == [ACCEPTED, ACCEPTED, REJECTED]
    assert reply.results[2].reason == ev.REJECT_REASON_INVALID_LABEL
    assert [(lb.record_id, lb.value, lb.record_seen) for lb in publisher.of(ValidLabel)] == [
        ("r1", 1, True),
        ("later", 0, False),
    ]


async def test_a_broker_that_does_not_ack_fails_the_call(stub, publisher) -> None:
    publisher.fail = True
    requests = [
        api.IngestRecordsRequest(stream="events", records=[as_json(good_record(i))])
        for i in range(10)
    ]
    for call in (stub.StreamRecords(agen(requests)), stub.IngestRecords(requests[0])):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "did not acknowledge" in caught.value.details()
    assert publisher.items == []
