"""All mapping between protobuf messages and the service's own types."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC
from typing import Any, NamedTuple, cast

import orjson
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import ValidationError

from driftloop.common.v1.common_pb2 import EventMeta
from driftloop.ingestion.v1 import events_pb2 as ev
from driftloop.ingestion.v1 import ingestion_service_pb2 as api
from driftloop.platform.errors import InvalidArgument
from driftloop.platform.spec import FieldSpec, LabelSpec, StreamSpec
from driftloop.platform.values import set_value, to_python
from driftloop_ingestion.codec.wire import FieldsEncoder, RecordEncoder
from driftloop_ingestion.domain.records import (
    BadRateAlert,
    DeadLetter,
    GrpcOrigin,
    KafkaOrigin,
    Origin,
    Reason,
    Rejected,
    ValidLabel,
    ValidRecord,
)
from driftloop_ingestion.service.intake import Result, Status, Submission, new_id
from driftloop_ingestion.service.labels import LabelSubmission
from driftloop_ingestion.service.ports import Outgoing

# ---------------------------------------------------------------- inputs


def decode_json(data: bytes | str, max_bytes: int) -> tuple[Any, Rejected | None]:
    """A record's JSON as a Python object, or why it cannot be one."""
    if len(data) > max_bytes:
        return None, Rejected(
            Reason.OVERSIZED, "", f"record of {len(data)} bytes exceeds the limit of {max_bytes}"
        )
    try:
        # orjson: several times faster than json on records this size, and
        # strict (UTF-8 only; NaN and Infinity are not JSON).
        return orjson.loads(data), None
    except (ValueError, RecursionError) as exc:
        return None, Rejected(Reason.MALFORMED, "", f"not valid JSON: {exc}")


def submission_from_input(
    rec: api.RecordInput, stream: str, origin: Origin, max_bytes: int
) -> Submission:
    """A gRPC (or raw-topic protobuf) ``RecordInput`` as a submission."""
    kind = rec.WhichOneof("payload")
    original = rec.SerializeToString()
    sub = Submission(original=original, stream=stream, record_id=rec.id, origin=origin)
    if kind == "json":
        sub.payload, sub.error = decode_json(rec.json, max_bytes)
    elif kind == "fields":
        if len(original) > max_bytes:
            sub.error = Rejected(
                Reason.OVERSIZED,
                "",
                f"record of {len(original)} bytes exceeds the limit of {max_bytes}",
            )
        else:
            sub.payload = {k: to_python(v) for k, v in rec.fields.values.items()}
    else:
        sub.error = Rejected(Reason.MALFORMED, "payload", "record has neither json nor fields")
    return sub


def label_from_input(label: api.LabelInput, stream: str, origin: Origin) -> LabelSubmission:
    return LabelSubmission(
        original=label.SerializeToString(),
        stream=stream,
        record_id=label.id,
        value=to_python(label.label),
        label_time=label.label_time.ToDatetime(tzinfo=UTC)
        if label.HasField("label_time")
        else None,
        origin=origin,
    )


# ---------------------------------------------------------------- events out


def _origin(target: ev.Origin, origin: Origin | None) -> None:
    if type(origin) is KafkaOrigin:
        k = target.kafka
        k.topic, k.partition, k.offset = origin.topic, origin.partition, origin.offset
    elif type(origin) is GrpcOrigin:
        g = target.grpc
        g.peer, g.method, g.request_id, g.index = (
            origin.peer,
            origin.method,
            origin.request_id,
            origin.position,
        )


def _meta(meta: EventMeta, event_id: str, source: str, now: Timestamp, caused_by: str) -> None:
    meta.event_id = event_id
    meta.source = source
    meta.occurred_at.CopyFrom(now)
    meta.causation_id = caused_by
    meta.correlation_id = caused_by or event_id


def record_event(rec: ValidRecord, source: str, now: Timestamp) -> ev.RecordValidated:
    """The event through the protobuf API (the reference for ``wire.RecordEncoder``)."""
    msg = ev.RecordValidated(
        stream=rec.stream, schema_version=rec.schema_version, entity_id=rec.entity_id
    )
    _meta(msg.meta, rec.record_id, source, now, "")
    msg.ingested_at.CopyFrom(now)
    if rec.event_time is None:
        msg.event_time.CopyFrom(now)
    else:
        msg.event_time.FromDatetime(rec.event_time)
    for name, v in rec.fields.items():
        set_value(msg.fields[name], v)
    _origin(msg.origin, rec.origin)
    return msg


def dead_letter_event(dead: DeadLetter, source: str, now: Timestamp) -> ev.RecordDeadLettered:
    msg = ev.RecordDeadLettered(
        stream=dead.stream,
        original=dead.original,
        reason=cast(ev.RejectReason, int(dead.reason)),
        message=dead.message,
        field=dead.field,
        is_label=dead.is_label,
    )
    _meta(msg.meta, dead.event_id, source, now, dead.caused_by)
    _origin(msg.origin, dead.origin)
    for k, v in dead.headers.items():
        msg.original_headers[k] = v
    return msg


def label_event(label: ValidLabel, source: str, now: Timestamp) -> ev.LabelReceived:
    msg = ev.LabelReceived(
        stream=label.stream, record_id=label.record_id, record_seen=label.record_seen
    )
    _meta(msg.meta, label.event_id, source, now, label.record_id)
    set_value(msg.label, label.value)
    msg.label_time.FromDatetime(label.label_time)
    return msg


def alert_event(alert: BadRateAlert, source: str, now: Timestamp) -> ev.BadRecordRateExceeded:
    msg = ev.BadRecordRateExceeded(
        stream=alert.stream,
        rate=alert.rate,
        threshold=alert.threshold,
        window_records=alert.window_records,
        window_rejected=alert.window_rejected,
    )
    msg.rejected_by_reason.update(alert.rejected_by_reason)
    _meta(msg.meta, new_id(), source, now, "")
    return msg


class Encoded(NamedTuple):
    """An event ready for Kafka: its type, envelope ids, key and payload."""

    type: str
    event_id: str
    causation_id: str
    correlation_id: str
    key: str
    value: bytes


_RECORD_TYPE = ev.RecordValidated.DESCRIPTOR.full_name


def _encoded(event: Any, key: str) -> Encoded:
    meta = event.meta
    return Encoded(
        event.DESCRIPTOR.full_name,
        meta.event_id,
        meta.causation_id,
        meta.correlation_id,
        key,
        event.SerializeToString(),
    )


def to_wire(
    items: Sequence[Outgoing], source: str, now: Timestamp, fields: FieldsEncoder
) -> Iterator[Encoded]:
    """Each item as an encoded event (occurred at ``now``) with its Kafka key
    (see docs/CONTRACTS.md)."""
    records = RecordEncoder(fields, source, now)
    for item in items:
        if isinstance(item, ValidRecord):
            rid = item.record_id
            yield Encoded(_RECORD_TYPE, rid, "", rid, item.entity_id, records.encode(item))
        elif isinstance(item, DeadLetter):
            yield _encoded(dead_letter_event(item, source, now), item.stream)
        elif isinstance(item, ValidLabel):
            yield _encoded(label_event(item, source, now), item.record_id)
        else:
            yield _encoded(alert_event(item, source, now), item.stream)


# ---------------------------------------------------------------- results


_STATUS = {
    Status.ACCEPTED: api.RECORD_STATUS_ACCEPTED,
    Status.REJECTED: api.RECORD_STATUS_REJECTED,
    Status.DUPLICATE: api.RECORD_STATUS_DUPLICATE,
}


def record_results(results: Sequence[Result]) -> api.IngestRecordsResponse:
    out = api.IngestRecordsResponse()
    counts = {Status.ACCEPTED: 0, Status.REJECTED: 0, Status.DUPLICATE: 0}
    add = out.results.add
    for i, r in enumerate(results):
        counts[r.status] += 1
        if r.rejection is None:
            add(index=i, event_id=r.event_id, status=_STATUS[r.status])
        else:
            rej = r.rejection
            add(
                index=i,
                event_id=r.event_id,
                status=api.RECORD_STATUS_REJECTED,
                reason=int(rej.reason),
                message=rej.message,
                field=rej.field,
            )
    out.accepted = counts[Status.ACCEPTED]
    out.rejected = counts[Status.REJECTED]
    out.duplicates = counts[Status.DUPLICATE]
    return out


def label_results(results: Sequence[Result]) -> api.SubmitLabelsResponse:
    records = record_results(results)
    return api.SubmitLabelsResponse(
        results=records.results, accepted=records.accepted, rejected=records.rejected
    )


# ---------------------------------------------------------------- schemas

_TYPE_NAME = {
    api.FIELD_TYPE_FLOAT: "float",
    api.FIELD_TYPE_INT: "int",
    api.FIELD_TYPE_BOOL: "bool",
    api.FIELD_TYPE_STRING: "string",
    api.FIELD_TYPE_CATEGORICAL: "categorical",
    api.FIELD_TYPE_TIMESTAMP: "timestamp",
}
_TYPE_ENUM = {v: k for k, v in _TYPE_NAME.items()}


def _field_dict(f: api.FieldSpec) -> dict[str, Any]:
    return {
        "name": f.name,
        "type": _TYPE_NAME.get(f.type, "unspecified"),
        "required": f.required,
        "min": f.min if f.HasField("min") else None,
        "max": f.max if f.HasField("max") else None,
        "max_length": f.max_length or None,
        "categories": tuple(f.categories),
    }


def spec_from_proto(schema: api.StreamSchema) -> StreamSpec:
    """A StreamSpec from the wire; ``InvalidArgument`` names each bad field."""
    data: dict[str, Any] = {
        "name": schema.name,
        "version": max(schema.version, 1),
        "id_field": schema.id_field or "id",
        "entity_field": schema.entity_field,
        "event_time_field": schema.event_time_field or None,
        "fields": [_field_dict(f) for f in schema.fields],
    }
    if schema.HasField("label") and schema.label.type != api.FIELD_TYPE_UNSPECIFIED:
        label = _field_dict(schema.label)
        data["label"] = {k: label[k] for k in ("type", "min", "max", "categories")}
    try:
        return StreamSpec.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"schema.{'.'.join(str(p) for p in e['loc'] if not str(p).startswith('function'))}"
            f": {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise InvalidArgument(problems) from None


def _field_proto(f: FieldSpec | LabelSpec, name: str, required: bool) -> api.FieldSpec:
    out = api.FieldSpec(
        name=name,
        type=_TYPE_ENUM[f.type],
        required=required,
        categories=list(f.categories),
    )
    if f.min is not None:
        out.min = f.min
    if f.max is not None:
        out.max = f.max
    if isinstance(f, FieldSpec) and f.max_length:
        out.max_length = f.max_length
    return out


def spec_to_proto(spec: StreamSpec) -> api.StreamSchema:
    out = api.StreamSchema(
        name=spec.name,
        version=spec.version,
        entity_field=spec.entity_field,
        event_time_field=spec.event_time_field or "",
        id_field=spec.id_field,
        fields=[_field_proto(f, f.name, f.required) for f in spec.fields],
    )
    if spec.label is not None:
        out.label.CopyFrom(_field_proto(spec.label, "label", True))
    return out
