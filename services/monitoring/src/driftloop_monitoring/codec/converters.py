"""All mapping between protobuf messages and the monitoring domain, in one
place. Bad input raises ``ValueError`` naming the field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from driftloop.common.v1 import common_pb2
from driftloop.feature.v1 import events_pb2 as feature_pb2
from driftloop.ingestion.v1 import events_pb2 as ingestion_pb2
from driftloop.monitoring.v1 import events_pb2 as mon_pb2
from driftloop.monitoring.v1 import monitoring_service_pb2 as svc_pb2
from driftloop.registry.v1 import model_pb2
from driftloop.serving.v1 import admin_service_pb2
from driftloop.serving.v1 import events_pb2 as serving_pb2
from driftloop_monitoring.domain.canary import PROMOTE, ROLLBACK, Evidence, Rollout
from driftloop_monitoring.domain.events import DriftFound, RolloutChanged, RolloutKind
from driftloop_monitoring.domain.model import (
    CANDIDATE,
    CHAMPION,
    SHADOW,
    Histogram,
    Label,
    Prediction,
    VersionInfo,
)
from driftloop_monitoring.domain.windowed import FeatureResult
from driftloop_monitoring.service.monitor import ModelHealth

ROLE_FROM = {
    common_pb2.MODEL_ROLE_CHAMPION: CHAMPION,
    common_pb2.MODEL_ROLE_CANDIDATE: CANDIDATE,
    common_pb2.MODEL_ROLE_SHADOW: SHADOW,
}
ROLE_TO = {v: k for k, v in ROLE_FROM.items()}
KIND_TO = {
    "concept": mon_pb2.DRIFT_KIND_CONCEPT,
    "data": mon_pb2.DRIFT_KIND_DATA,
    "prediction": mon_pb2.DRIFT_KIND_PREDICTION,
}
VERDICT_TO = {PROMOTE: mon_pb2.VERDICT_PROMOTE, ROLLBACK: mon_pb2.VERDICT_ROLLBACK}
MODE_TO = {
    "canary": admin_service_pb2.TRAFFIC_MODE_CANARY,
    "shadow": admin_service_pb2.TRAFFIC_MODE_SHADOW,
}


def _secs(ts: Timestamp) -> float:
    return ts.seconds + ts.nanos / 1e9


def _ts(seconds: float) -> Timestamp:
    ts = Timestamp()
    ts.FromNanoseconds(int(seconds * 1e9))
    return ts


def _when(ts: Timestamp, meta: common_pb2.EventMeta) -> float:
    """The event's own time, or when the event was made when it has none."""
    return _secs(ts) or _secs(meta.occurred_at)


def predictions_from(e: serving_pb2.PredictionMade) -> list[Prediction]:
    """The event's predictions: one, or one per row of a multi-row request
    (``rows``; row i's record id is ``<record_id>/<i>``, as serving numbers
    them). A prediction without a record id, or with one serving made up, is
    kept (it counts for drift) but marked unjoinable."""
    if not e.model.name or e.model.version <= 0:
        raise ValueError("model.name and model.version are required")
    base = Prediction(
        record_id=e.record_id or e.meta.event_id,
        joinable=bool(e.record_id) and not e.record_id_generated,
        model=e.model.name,
        version=e.model.version,
        role=ROLE_FROM.get(e.role, ""),
        prediction=e.prediction,
        probabilities=tuple(e.probabilities),
        latency_ms=e.latency_ms,
        at=_when(e.predicted_at, e.meta),
        feature_names=tuple(e.feature_names),
        features=tuple(e.features),
        event_id=e.meta.event_id,
    )
    if not e.HasField("rows"):
        return [base]
    rows = e.rows
    n = rows.count
    if n <= 0 or len(rows.predictions) != n:
        raise ValueError(f"rows: count {n} with {len(rows.predictions)} predictions")
    width, classes = divmod(len(rows.features), n), divmod(len(rows.probabilities), n)
    if width[1] or classes[1]:
        raise ValueError(f"rows: features or probabilities do not split into {n} rows")
    w, k = width[0], classes[0]
    return [
        replace(
            base,
            record_id=f"{base.record_id}/{i}",
            prediction=rows.predictions[i],
            features=tuple(rows.features[i * w : (i + 1) * w]),
            probabilities=tuple(rows.probabilities[i * k : (i + 1) * k]),
        )
        for i in range(n)
    ]


def label_from(e: ingestion_pb2.LabelReceived) -> Label:
    if not e.record_id:
        raise ValueError("record_id is empty")
    kind = e.label.WhichOneof("kind")
    if kind in ("number_value", "int_value", "bool_value"):
        value = float(getattr(e.label, kind))
    elif kind == "string_value":
        try:
            value = float(e.label.string_value)
        except ValueError:
            raise ValueError(
                f"label.string_value {e.label.string_value!r} is not numeric"
            ) from None
    else:
        raise ValueError(f"label has no usable value (kind {kind!r})")
    at = _when(e.label_time, e.meta)
    return Label(record_id=e.record_id, value=value, at=at, event_id=e.meta.event_id)


def features_from(
    e: feature_pb2.FeatureVectorComputed,
) -> tuple[str, str, tuple[str, ...], tuple[float, ...], float]:
    if len(e.feature_names) != len(e.values):
        raise ValueError("feature_names and values differ in length")
    at = _when(e.event_time, e.meta)
    return e.record_id, e.view, tuple(e.feature_names), tuple(e.values), at


def _histogram(h: common_pb2.Histogram) -> Histogram:
    return Histogram(h.name, tuple(h.counts), tuple(h.bin_edges), tuple(h.categories))


def version_from(v: model_pb2.ModelVersion) -> VersionInfo:
    profile = v.reference_profile
    return VersionInfo(
        model=v.model,
        version=v.version,
        task="regression" if v.task == common_pb2.TASK_KIND_REGRESSION else "classification",
        feature_view=v.feature_view,
        features=tuple(_histogram(h) for h in profile.features if h.counts),
        prediction=_histogram(profile.prediction) if profile.prediction.counts else None,
    )


def _feature(r: FeatureResult) -> mon_pb2.FeatureDrift:
    return mon_pb2.FeatureDrift(
        name=r.name, psi=r.psi, test_statistic=r.statistic, p_value=r.p_value, drifted=r.drifted
    )


def drift_to_proto(d: DriftFound, meta: common_pb2.EventMeta) -> mon_pb2.DriftDetected:
    return mon_pb2.DriftDetected(
        meta=meta,
        drift_id=d.drift_id,
        model=common_pb2.ModelRef(name=d.model, version=d.version),
        kind=KIND_TO[d.kind],
        detector=d.detector,
        statistic=d.statistic,
        threshold=d.threshold,
        baseline=d.baseline,
        features=[_feature(r) for r in d.features],
        change_started_at=_ts(d.change_started_at),
        change_started_position=d.change_started_position,
        window=mon_pb2.EvidenceWindow(
            start=_ts(d.window_start), end=_ts(d.window_end), samples=d.window_samples
        ),
        dataset_drift_share=d.dataset_drift_share,
    )


def evidence_to_proto(e: Evidence | None) -> mon_pb2.CanaryEvidence | None:
    # The evidence's fields are the message's, name for name.
    return None if e is None else mon_pb2.CanaryEvidence(**asdict(e))


ROLLOUT_EVENT: dict[RolloutKind, type[Message]] = {
    RolloutKind.STARTED: mon_pb2.RolloutStarted,
    RolloutKind.STEPPED: mon_pb2.RolloutStepped,
    RolloutKind.DECIDED: mon_pb2.RolloutDecided,
    RolloutKind.COMPLETED: mon_pb2.RolloutCompleted,
}


def rollout_to_proto(c: RolloutChanged, meta: common_pb2.EventMeta) -> Message:
    """The event of the fact's kind, with the fields that event declares."""
    event = ROLLOUT_EVENT[c.kind]
    champion = c.champion if c.champion_now is None else c.champion_now
    # Lazy, so a value only one event carries (verdict, mode) is looked up only for it.
    values: dict[str, Callable[[], object]] = {
        "meta": lambda: meta,
        "rollout_id": lambda: c.rollout_id,
        "model": lambda: c.model,
        "champion": lambda: common_pb2.ModelRef(name=c.model, version=champion),
        "candidate": lambda: common_pb2.ModelRef(name=c.model, version=c.candidate),
        "mode": lambda: MODE_TO[c.mode],
        "candidate_share": lambda: c.share,
        "steps": lambda: list(c.steps),
        "verdict": lambda: VERDICT_TO[c.verdict],
        "reason": lambda: c.reason,
        "evidence": lambda: evidence_to_proto(c.evidence),
    }
    declared = event.DESCRIPTOR.fields_by_name
    return event(**{name: value() for name, value in values.items() if name in declared})


def health_to_proto(h: ModelHealth) -> svc_pb2.ModelHealth:
    return svc_pb2.ModelHealth(
        model=h.model,
        versions=[
            svc_pb2.VersionQuality(
                model=common_pb2.ModelRef(name=h.model, version=v.version),
                role=ROLE_TO.get(v.role, common_pb2.MODEL_ROLE_UNSPECIFIED),
                predictions=v.predictions,
                labelled=v.labelled,
                metrics=v.metrics,
            )
            for v in h.versions
        ],
        features=[_feature(r) for r in h.features],
        recent_drift=[
            drift_to_proto(d, common_pb2.EventMeta(event_id=d.drift_id)) for d in h.recent_drift
        ],
        label_join_lag_seconds_p50=h.lag_p50,
        unmatched_predictions=h.unmatched_predictions,
        unmatched_labels=h.unmatched_labels,
    )


def rollout_status_to_proto(model: str, r: Rollout | None, share: float) -> svc_pb2.RolloutStatus:
    if r is None:
        return svc_pb2.RolloutStatus(model=model, active=False)
    return svc_pb2.RolloutStatus(
        model=model,
        active=r.phase in ("started", "stepping", "decided"),
        rollout_id=r.rollout_id,
        champion=common_pb2.ModelRef(name=model, version=r.champion),
        candidate=common_pb2.ModelRef(name=model, version=r.candidate),
        candidate_share=share,
        evidence=evidence_to_proto(r.last_evidence),
        phase=r.phase,
    )
