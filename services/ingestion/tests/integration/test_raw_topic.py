"""10,000 raw-topic records with 1% malformed of each kind, through the real
embedded broker and a real ingestion process."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections import Counter

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from driftloop.ingestion.v1 import events_pb2 as ev
from driftloop.platform import topics
from driftloop.platform.testing import end_offsets, read_from, unique

from ..conftest import good_record, start_ingestion, write_spec

pytestmark = pytest.mark.integration

N = 10_000
MAX_BYTES = 1024
R = ev.RejectReason


def bad_record(kind: str, i: int) -> bytes:
    good = {**good_record(i), "id": f"r{i}"}
    if kind == "bad_json":
        return f'{{"id": "r{i}", "user": '.encode()
    if kind == "wrong_type":
        good["amount"] = str(i)
    elif kind == "out_of_range":
        good["count"] = 1000 + i
    elif kind == "missing":
        del good["kind"]
    elif kind == "unknown_category":
        good["kind"] = f"k{i}"
    elif kind == "oversized":
        good["user"] = "x" * MAX_BYTES
    return json.dumps(good).encode()


EXPECTED = {
    "bad_json": (R.REJECT_REASON_MALFORMED, ""),
    "wrong_type": (R.REJECT_REASON_WRONG_TYPE, "amount"),
    "out_of_range": (R.REJECT_REASON_OUT_OF_RANGE, "count"),
    "missing": (R.REJECT_REASON_MISSING_FIELD, "kind"),
    "unknown_category": (R.REJECT_REASON_UNKNOWN_CATEGORY, "kind"),
    "oversized": (R.REJECT_REASON_OVERSIZED, ""),
}


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as reply:
        return reply.read().decode()


def build(stream: str) -> tuple[list[tuple[bytes, bytes]], set[str], dict[bytes, str]]:
    """Produced items, the ids that must be validated, and the bad payloads' kinds."""
    kinds = list(EXPECTED)
    items, good_ids, bad = [], set(), {}
    for i in range(N):
        kind = kinds[i % 100] if i % 100 < len(kinds) else None
        if kind is None:
            value = json.dumps({**good_record(i), "id": f"r{i}", "stream": stream}).encode()
            good_ids.add(f"r{i}")
        else:
            value = bad_record(kind, i)
            bad[value] = kind
        items.append((f"u{i % 50}".encode(), value))
    return items, good_ids, bad


async def test_ten_thousand_raw_records_with_one_percent_bad_of_each_kind(kafka, tmp_path):
    stream = unique("raw").replace("-", "_")
    proc, address = start_ingestion(
        kafka,
        tmp_path,
        # Two streams, so none is the default: the raw topics hold other tests'
        # records and labels that name no stream, and a process with one stream
        # would take them as its own (and dead-letter them under its name).
        write_spec(tmp_path / "spec.yaml", stream, f"{stream}_other"),
        DRIFTLOOP_MAX_RECORD_BYTES=str(MAX_BYTES),
    )
    try:
        items, good_ids, bad = build(stream)
        assert len(bad) == 6 * N // 100
        starts = {
            t: await end_offsets(kafka, t)
            for t in (
                topics.RECORDS_VALIDATED.name,
                topics.RECORDS_DEADLETTER.name,
                topics.ALERTS.name,
            )
        }
        # Good records name their stream in the JSON; bad ones in a header.
        from aiokafka import AIOKafkaProducer

        from driftloop.platform.bus import aiokafka_options

        producer = AIOKafkaProducer(**aiokafka_options(kafka), linger_ms=5)
        await producer.start()
        try:
            futures = [
                await producer.send(
                    topics.RECORDS_RAW.name,
                    v,
                    key=k,
                    headers=[("stream", stream.encode())] if v in bad else None,
                )
                for k, v in items
            ]
            for f in futures:
                await f
        finally:
            await producer.stop()

        def mine(kind):
            def match(record) -> bool:
                msg = kind.FromString(record.value)
                # A process that does not know this stream (another test's)
                # would dead-letter it as UNKNOWN_STREAM; this one never does.
                return (
                    msg.stream == stream
                    and getattr(msg, "reason", 0) != R.REJECT_REASON_UNKNOWN_STREAM
                )

            return match

        validated = await read_from(
            kafka,
            topics.RECORDS_VALIDATED.name,
            starts[topics.RECORDS_VALIDATED.name],
            count=len(good_ids),
            predicate=mine(ev.RecordValidated),
            timeout_s=120,
        )
        dead = await read_from(
            kafka,
            topics.RECORDS_DEADLETTER.name,
            starts[topics.RECORDS_DEADLETTER.name],
            count=len(bad),
            predicate=mine(ev.RecordDeadLettered),
            timeout_s=60,
        )
        records = [ev.RecordValidated.FromString(r.value) for r in validated]
        # At least once, twice over: a batch read again after a rebalance
        # repeats its dead letters with the same event ids, and a producer
        # retry under load (no idempotent producer on the embedded broker)
        # writes a raw record twice, at two offsets, so it is dead-lettered
        # twice with two ids. Each bad payload is unique: count each once.
        letters = list(
            {
                d.original: d
                for d in map(ev.RecordDeadLettered.FromString, (r.value for r in dead))
            }.values()
        )

        unexpected = [
            (d.reason, d.message, d.original[:60]) for d in letters if d.original not in bad
        ]
        assert not unexpected, unexpected
        assert len(records) + len(letters) == N
        assert sorted(r.meta.event_id for r in records) == sorted(good_ids)
        assert all(
            r.schema_version == 1 and r.origin.kafka.topic == topics.RECORDS_RAW.name
            for r in records
        )
        assert all(k.key == r.entity_id.encode() for k, r in zip(validated, records, strict=True))
        assert sorted(d.original for d in letters) == sorted(bad)
        for d in letters:
            reason, field = EXPECTED[bad[d.original]]
            assert (d.reason, d.field) == (reason, field), d.message
            assert d.origin.kafka.topic == topics.RECORDS_RAW.name and d.message
            if field:
                assert repr(field) in d.message

        alerts = await read_from(
            kafka,
            topics.ALERTS.name,
            starts[topics.ALERTS.name],
            count=1,
            idle_s=0,
            predicate=lambda r: ev.BadRecordRateExceeded.FromString(r.value).stream == stream,
        )
        alert = ev.BadRecordRateExceeded.FromString(alerts[0].value)
        assert alert.rate > alert.threshold == 0.05

        metrics = await asyncio.to_thread(scrape, proc.metrics_url)
        line = (
            f'driftloop_ingestion_records_total{{outcome="rejected",reason="wrong_type",'
            f'stream="{stream}"}} 100.0'
        )
        assert line in metrics
        assert f'outcome="accepted",reason="",stream="{stream}"}} {len(good_ids)}.0' in metrics

        with grpc.insecure_channel(address) as channel:
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        assert Counter(bad.values()) == Counter({k: N // 100 for k in EXPECTED})
    finally:
        code = proc.terminate()
    assert code == 0, proc.tail()
