"""Kafka subscribers for what producer apps write with any Kafka client:
JSON (or protobuf ``RecordInput``) records on ``driftloop.records.raw`` and
JSON labels on ``driftloop.labels.raw``.

These are not driftloop events, so they bypass ``bus.subscribe`` but keep its
discipline: a fetched batch is handled as a whole (valid records published,
bad ones dead-lettered, all acknowledged by the broker) before its offsets
are committed; if publishing fails the batch is read again.
"""

from __future__ import annotations

from typing import Any

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka.annotations import KafkaMessage
from google.protobuf.message import DecodeError

from driftloop.ingestion.v1.ingestion_service_pb2 import RecordInput
from driftloop.platform import topics
from driftloop.platform.bus import (
    EventBus,
    safe_parse,  # tolerant of non-UTF-8 headers
)
from driftloop_ingestion.codec.converters import decode_json, submission_from_input
from driftloop_ingestion.domain.records import KafkaOrigin, Reason, Rejected
from driftloop_ingestion.service.intake import RecordIntake, Submission
from driftloop_ingestion.service.labels import LabelIntake, LabelSubmission
from driftloop_ingestion.settings import IngestionSettings

PROTOBUF_TYPES = ("application/protobuf", "application/x-protobuf")


def _headers(record: ConsumerRecord) -> dict[str, bytes]:
    raw = getattr(record, "original_headers", None) or record.headers or ()
    return {k: v or b"" for k, v in raw}


def _stream_of(headers: dict[str, bytes], payload: Any, default: str) -> str:
    if "stream" in headers:
        return headers["stream"].decode("utf-8", "replace")
    if type(payload) is dict:
        named = payload.get("stream")
        if type(named) is str:
            return named
    return default


def record_submission(
    record: ConsumerRecord, default: str, max_bytes: int, log_id: str = ""
) -> Submission:
    """A raw-topic record as a submission (decoded, stream resolved);
    ``log_id``: the cluster id of the log it was read from."""
    headers = _headers(record) if record.headers else {}
    origin = KafkaOrigin(record.topic, record.partition, record.offset, log_id)
    value = record.value or b""
    content_type = headers.get("content-type", b"").decode("utf-8", "replace")
    if content_type in PROTOBUF_TYPES:
        stream = _stream_of(headers, None, default)
        try:
            sub = submission_from_input(RecordInput.FromString(value), stream, origin, max_bytes)
        except DecodeError as exc:
            malformed = Rejected(Reason.MALFORMED, "", f"not a RecordInput: {exc}")
            sub = Submission(original=value, stream=stream, error=malformed, origin=origin)
        sub.original = value
    else:
        payload, error = decode_json(value, max_bytes)
        stream = _stream_of(headers, payload, default)
        sub = Submission(value, stream, payload, error, origin=origin)
    sub.headers = headers
    return sub


def label_submission(
    record: ConsumerRecord, default: str, max_bytes: int, log_id: str = ""
) -> LabelSubmission:
    """A raw-topic label ``{"id", "label", "label_time"?, "stream"?}``."""
    headers = _headers(record) if record.headers else {}
    value = record.value or b""
    payload, error = decode_json(value, max_bytes)
    stream = _stream_of(headers, payload, default)
    sub = LabelSubmission(
        original=value,
        stream=stream,
        error=error,
        origin=KafkaOrigin(record.topic, record.partition, record.offset, log_id),
        headers=headers,
    )
    if error is None:
        if type(payload) is not dict:
            sub.error = Rejected(Reason.MALFORMED, "", "a label must be a JSON object")
        else:
            sub.record_id = payload.get("id")
            sub.value = payload.get("label")
            sub.label_time = payload.get("label_time")
    return sub


def register_raw_consumers(
    bus: EventBus,
    records: RecordIntake,
    labels: LabelIntake,
    settings: IngestionSettings,
) -> None:
    """Subscribe intake to the raw records and raw labels topics."""
    broker = bus.broker
    limit = settings.max_record_bytes
    common: dict[str, Any] = {
        "batch": True,
        "max_records": settings.raw_batch_records,
        "auto_offset_reset": "earliest",
        "ack_policy": AckPolicy.NACK_ON_ERROR,
        "parser": safe_parse,
        "decoder": lambda msg: msg.body,
    }

    @broker.subscriber(topics.RECORDS_RAW.name, group_id=settings.records_group, **common)
    async def on_raw_records(_body: Any, message: KafkaMessage) -> None:
        default = records.catalog.default_stream(settings.default_stream)
        log_id = bus.cluster_id
        await records.ingest(
            [record_submission(r, default, limit, log_id) for r in message.raw_message]
        )

    @broker.subscriber(topics.LABELS_RAW.name, group_id=settings.labels_group, **common)
    async def on_raw_labels(_body: Any, message: KafkaMessage) -> None:
        default = labels.catalog.default_stream(settings.default_stream)
        log_id = bus.cluster_id
        await labels.submit(
            [label_submission(r, default, limit, log_id) for r in message.raw_message]
        )
