"""All proto ⇄ domain mapping of the training service, in one place."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from google.protobuf.timestamp_pb2 import Timestamp

from driftloop.common.v1 import common_pb2
from driftloop.registry.v1 import model_pb2
from driftloop.registry.v1 import registry_service_pb2 as registry_pb
from driftloop.training.v1 import events_pb2, run_pb2
from driftloop_training.domain.profile import Histogram, Profile
from driftloop_training.domain.runs import Run, Snapshot, Window
from driftloop_training.service.ports import Registration, VersionInfo


def ts(dt: datetime | None) -> Timestamp | None:
    if dt is None:
        return None
    out = Timestamp()
    out.FromDatetime(dt)
    return out


def dt(t: Timestamp, present: bool = True) -> datetime | None:
    if not present or (t.seconds == 0 and t.nanos == 0):
        return None
    return t.ToDatetime(tzinfo=UTC)


def label_value(value: common_pb2.Value) -> float | str | None:
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        return value.number_value
    if kind == "int_value":
        return float(value.int_value)
    if kind == "bool_value":
        return 1.0 if value.bool_value else 0.0
    if kind == "string_value":
        return value.string_value
    return None


def window_from_proto(w: run_pb2.DataWindow, default: Window) -> Window:
    return Window(
        policy=w.policy or default.policy,
        min_rows=w.min_rows or default.min_rows,
        start=dt(w.start, w.HasField("start")) or default.start,
        end=dt(w.end, w.HasField("end")),
        last_n=w.last_n or default.last_n,
    )


def window_to_proto(w: Window) -> run_pb2.DataWindow:
    return run_pb2.DataWindow(
        policy=w.policy, start=ts(w.start), end=ts(w.end), last_n=w.last_n, min_rows=w.min_rows
    )


def snapshot_to_proto(s: Snapshot | None) -> run_pb2.DatasetSnapshot | None:
    if s is None:
        return None
    return run_pb2.DatasetSnapshot(
        snapshot_id=s.snapshot_id,
        feature_view=s.feature_view,
        feature_view_version=s.feature_view_version,
        start=ts(s.start),
        end=ts(s.end),
        rows=s.rows,
        holdout_rows=s.holdout_rows,
        content_sha256=s.content_sha256,
    )


def run_to_proto(run: Run) -> run_pb2.Run:
    return run_pb2.Run(
        run_id=run.run_id,
        model=run.model,
        state=cast(run_pb2.RunState, int(run.state)),
        trigger=cast(run_pb2.Trigger, int(run.trigger)),
        drift_id=run.drift_id,
        snapshot=snapshot_to_proto(run.snapshot),
        metrics=run.metrics,
        champion_metrics=run.champion_metrics,
        version=run.version,
        gate_passed=run.gate_passed,
        error=f"{run.failure_kind}: {run.error}" if run.error else "",
        seed=run.seed,
        params=run.params,
        library_versions=run.library_versions,
        created_at=ts(run.created_at),
        started_at=ts(run.started_at),
        finished_at=ts(run.finished_at),
        trainer=run.trainer,
    )


def histogram_to_proto(h: Histogram) -> common_pb2.Histogram:
    return common_pb2.Histogram(
        name=h.name,
        bin_edges=h.bin_edges,
        categories=h.categories,
        counts=h.counts,
        count=h.count,
        mean=h.mean,
        std=h.std,
    )


def profile_to_proto(p: Profile) -> common_pb2.ReferenceProfile:
    return common_pb2.ReferenceProfile(
        features=[histogram_to_proto(h) for h in p.features],
        label=histogram_to_proto(p.label),
        prediction=histogram_to_proto(p.prediction),
        rows=p.rows,
    )


TASKS = {
    "classification": common_pb2.TASK_KIND_CLASSIFICATION,
    "regression": common_pb2.TASK_KIND_REGRESSION,
}


# ---------------------------------------------------------------- the registry


def registration_to_proto(r: Registration) -> registry_pb.RegisterModelVersionMetadata:
    """What a run registers, less the artifact (sent in chunks after it)."""
    return registry_pb.RegisterModelVersionMetadata(
        model=r.model,
        metrics=r.metrics,
        tags={k: v for k, v in r.tags.items() if v},
        run_id=r.run_id,
        dataset_snapshot_id=r.snapshot_id,
        parent_version=r.parent_version,
        feature_view=r.feature_view,
        feature_view_version=r.feature_view_version,
        feature_width=r.feature_width,
        reference_profile=profile_to_proto(r.profile),
        task=TASKS[r.task],
        description=r.description,
        caused_by_event_id=r.caused_by_event_id,
    )


def version_from(v: model_pb2.ModelVersion) -> VersionInfo:
    return VersionInfo(v.model, v.version, v.feature_view, v.feature_view_version)


# ---------------------------------------------------------------- run events
# Each transition of a run as its event on driftloop.training; the adapter
# supplies the meta (the causation chain of docs/CONTRACTS.md).


def requested_event(run: Run, meta: common_pb2.EventMeta) -> events_pb2.TrainingRequested:
    return events_pb2.TrainingRequested(
        meta=meta,
        run_id=run.run_id,
        model=run.model,
        trigger=cast(run_pb2.Trigger, int(run.trigger)),
        drift_id=run.drift_id,
        window=window_to_proto(run.window),
    )


def started_event(run: Run, meta: common_pb2.EventMeta) -> events_pb2.TrainingStarted:
    return events_pb2.TrainingStarted(
        meta=meta,
        run_id=run.run_id,
        model=run.model,
        drift_id=run.drift_id,
        snapshot=snapshot_to_proto(run.snapshot),
    )


def completed_event(run: Run, meta: common_pb2.EventMeta) -> events_pb2.TrainingCompleted:
    return events_pb2.TrainingCompleted(
        meta=meta,
        run_id=run.run_id,
        model=run.model,
        drift_id=run.drift_id,
        version=run.version,
        gate_passed=run.gate_passed,
        gate_reason=run.gate_reason,
        metrics=run.metrics,
        champion_metrics=run.champion_metrics,
        champion_version=run.champion_version,
        snapshot_id=run.snapshot.snapshot_id if run.snapshot else "",
        reused=run.reused,
    )


def failed_event(run: Run, meta: common_pb2.EventMeta) -> events_pb2.TrainingFailed:
    return events_pb2.TrainingFailed(
        meta=meta,
        run_id=run.run_id,
        model=run.model,
        drift_id=run.drift_id,
        reason=run.error,
        failure_kind=run.failure_kind,
    )
