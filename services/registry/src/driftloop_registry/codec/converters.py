"""All mapping between protobuf messages and the registry's domain objects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from driftloop.common.v1 import common_pb2
from driftloop.platform.envelope import new_meta
from driftloop.registry.v1 import events_pb2, model_pb2, registry_service_pb2
from driftloop_registry.domain.model import (
    AliasChange,
    MetricFilter,
    ModelSummary,
    ModelVersion,
    TaskKind,
    VersionDraft,
    VersionFilter,
)
from driftloop_registry.service.ports import Cause, PendingEvent

SOURCE = "registry"


def draft_from_proto(
    m: registry_service_pb2.RegisterModelVersionMetadata, correlation_id: str = ""
) -> VersionDraft:
    return VersionDraft(
        model=m.model,
        metrics=dict(m.metrics),
        tags=dict(m.tags),
        run_id=m.run_id,
        dataset_snapshot_id=m.dataset_snapshot_id,
        parent_version=m.parent_version,
        feature_view=m.feature_view,
        feature_view_version=m.feature_view_version,
        feature_width=m.feature_width,
        reference_profile=(
            m.reference_profile.SerializeToString() if m.HasField("reference_profile") else b""
        ),
        task=TaskKind(m.task) if m.task in TaskKind._value2member_map_ else TaskKind.UNSPECIFIED,
        description=m.description,
        expected_sha256=m.expected_sha256.lower(),
        caused_by_event_id=m.caused_by_event_id,
        correlation_id=correlation_id,
    )


def version_to_proto(v: ModelVersion) -> model_pb2.ModelVersion:
    out = model_pb2.ModelVersion(
        model=v.model,
        version=v.version,
        artifact_sha256=v.artifact_sha256,
        artifact_size=v.artifact_size,
        metrics=v.metrics,
        tags=v.tags,
        run_id=v.run_id,
        dataset_snapshot_id=v.dataset_snapshot_id,
        parent_version=v.parent_version,
        feature_view=v.feature_view,
        feature_view_version=v.feature_view_version,
        aliases=list(v.aliases),
        task=cast(common_pb2.TaskKind, int(v.task)),
        description=v.description,
    )
    for spec, target in ((v.signature.inputs, out.signature.inputs),
                         (v.signature.outputs, out.signature.outputs)):  # fmt: skip
        for t in spec:
            target.add(name=t.name, datatype=t.datatype, shape=list(t.shape))
    if v.reference_profile:
        out.reference_profile.MergeFromString(v.reference_profile)
    out.created_at.FromDatetime(v.created_at)
    return out


def change_to_proto(c: AliasChange) -> registry_service_pb2.AliasHistoryEntry:
    out = registry_service_pb2.AliasHistoryEntry(
        model=c.model,
        alias=c.alias,
        version=c.version,
        previous_version=c.previous_version,
        reason=c.reason,
        caused_by_event_id=c.caused_by_event_id,
        sequence=c.sequence,
    )
    out.changed_at.FromDatetime(c.changed_at)
    return out


def summary_to_proto(s: ModelSummary) -> registry_service_pb2.ModelSummary:
    return registry_service_pb2.ModelSummary(
        name=s.name, latest_version=s.latest_version, aliases=s.aliases
    )


def filter_from_proto(r: registry_service_pb2.ListModelVersionsRequest) -> VersionFilter:
    return VersionFilter(
        alias=r.alias,
        tags=dict(r.tags),
        metrics=tuple(MetricFilter(f.metric, f.op, f.value) for f in r.metrics),
    )


def at_from_proto(r: registry_service_pb2.GetAliasHistoryRequest) -> datetime | None:
    return r.at.ToDatetime(tzinfo=UTC) if r.HasField("at") else None


def cause_of(
    r: registry_service_pb2.SetAliasRequest | registry_service_pb2.DeleteAliasRequest,
    correlation_id: str,
) -> Cause:
    """Why an alias changes; the chain's id comes as call metadata, since the
    request has no field for it."""
    return Cause(r.caused_by_event_id, correlation_id or r.caused_by_event_id, r.reason)


def expected_of(
    r: registry_service_pb2.SetAliasRequest | registry_service_pb2.DeleteAliasRequest,
) -> int | None:
    return r.expected_version if r.HasField("expected_version") else None


def event_to_proto(
    e: PendingEvent,
) -> events_pb2.ModelVersionRegistered | events_pb2.AliasChanged:
    """The event an outbox entry announces, with the id it was given at commit."""
    meta = new_meta(SOURCE, event_id=e.event_id, occurred_at=e.occurred_at)
    if e.causation_id:
        meta.causation_id = e.causation_id
        meta.correlation_id = e.correlation_id or e.causation_id
    if e.change is None:
        assert e.version is not None
        return events_pb2.ModelVersionRegistered(meta=meta, version=version_to_proto(e.version))
    c = e.change
    out = events_pb2.AliasChanged(
        meta=meta,
        model=c.model,
        alias=c.alias,
        version=c.version,
        previous_version=c.previous_version,
        reason=c.reason,
        caused_by_event_id=c.caused_by_event_id,
        sequence=c.sequence,
    )
    if e.version is not None and c.version:
        out.model_version.CopyFrom(version_to_proto(e.version))
    return out


def model_ref(ref: common_pb2.ModelRef) -> int:
    return int(ref.version)
