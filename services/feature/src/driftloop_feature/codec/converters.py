"""All mapping between protobuf messages and the feature domain, in one place."""

from __future__ import annotations

import time

from driftloop.feature.v1 import feature_service_pb2 as pb
from driftloop.feature.v1.events_pb2 import FeatureVectorComputed
from driftloop.ingestion.v1.events_pb2 import RecordDeadLettered, RecordValidated, RejectReason
from driftloop.platform.envelope import new_meta
from driftloop.platform.values import to_python
from driftloop_feature.domain.model import Record, Rejection, RejectKind, Vector
from driftloop_feature.domain.views import CompiledView
from driftloop_feature.service.ports import OnlineEntry

SOURCE = "feature"

_REASON = {
    RejectKind.MISSING_FIELD: RejectReason.REJECT_REASON_MISSING_FIELD,
    RejectKind.WRONG_TYPE: RejectReason.REJECT_REASON_WRONG_TYPE,
    RejectKind.NOT_FINITE: RejectReason.REJECT_REASON_OUT_OF_RANGE,
    # No LATE reason in the ingestion contract: the record's timestamp is what
    # makes it unusable; the message says it is late.
    RejectKind.LATE: RejectReason.REJECT_REASON_INVALID_TIMESTAMP,
}


def record_from_proto(event: RecordValidated) -> Record:
    """The domain record of a validated record (event time falls back to the
    ingestion time when a producer sent none)."""
    ts = event.event_time if event.HasField("event_time") else event.ingested_at
    return Record(
        record_id=event.meta.event_id,
        stream=event.stream,
        entity_id=event.entity_id,
        event_time_ns=ts.ToNanoseconds(),
        fields={name: to_python(v) for name, v in event.fields.items()},
        original=event,
    )


def vector_to_proto(vector: Vector) -> FeatureVectorComputed:
    event = FeatureVectorComputed(
        meta=new_meta(SOURCE, event_id=vector.event_id, caused_by=vector.record_id),
        record_id=vector.record_id,
        stream=vector.stream,
        entity_id=vector.entity_id,
        view=vector.view,
        view_version=vector.view_version,
        feature_names=vector.names,
        values=vector.values,
    )
    event.event_time.FromNanoseconds(vector.event_time_ns)
    return event


def rejection_to_proto(rejection: Rejection) -> RecordDeadLettered:
    original = rejection.record.original
    event = RecordDeadLettered(
        meta=new_meta(SOURCE, event_id=rejection.event_id, caused_by=rejection.record.record_id),
        stream=rejection.record.stream,
        reason=_REASON[rejection.kind],
        message=rejection.message,
        field=rejection.field,
    )
    if isinstance(original, RecordValidated):
        event.original = original.SerializeToString()
        event.origin.CopyFrom(original.origin)
    return event


def entries_to_proto(
    view: CompiledView, ids: list[str], entries: list[OnlineEntry | None]
) -> pb.GetOnlineFeaturesResponse:
    now = time.time()
    reply = pb.GetOnlineFeaturesResponse(
        view=view.name, view_version=view.version, feature_names=view.names
    )
    for entity, entry in zip(ids, entries, strict=True):
        item = reply.vectors.add(entity_id=entity, found=entry is not None)
        if entry is not None:
            item.values.extend(entry.vector.values)
            item.event_time.FromNanoseconds(entry.vector.event_time_ns)
            item.age.FromNanoseconds(max(0, int((now - entry.computed_at) * 1e9)))
            item.record_id = entry.vector.record_id
    return reply


def view_to_proto(view: CompiledView) -> pb.FeatureViewInfo:
    return pb.FeatureViewInfo(
        name=view.name, version=view.version, stream=view.spec.stream, feature_names=view.names
    )
