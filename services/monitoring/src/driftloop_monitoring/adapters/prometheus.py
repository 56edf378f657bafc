"""Prometheus metrics of the monitoring service (served by the runtime's
metrics endpoint). Labelled by model, version and role where it applies."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

QUALITY = Gauge(
    "driftloop_monitoring_quality",
    "Quality over the sliding window (accuracy, log_loss, roc_auc, mae, rmse)",
    ["model", "version", "role", "metric"],
)
PREDICTIONS = Counter(
    "driftloop_monitoring_predictions_total", "Predictions seen", ["model", "version", "role"]
)
LABELLED = Counter(
    "driftloop_monitoring_labelled_total",
    "Predictions joined to their label",
    ["model", "version", "role"],
)
JOIN_LAG = Histogram(
    "driftloop_monitoring_label_join_lag_seconds",
    "Time from prediction to its label",
    ["model"],
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 6 * 3600, 86400),
)
UNMATCHED = Counter(
    "driftloop_monitoring_unmatched_total",
    "Predictions or labels that aged out without a match",
    ["kind"],
)
UNJOINABLE = Counter(
    "driftloop_monitoring_unjoinable_predictions_total",
    "Predictions with no usable record id (none sent, or one serving generated): "
    "they count for drift but can never meet a label",
    ["model"],
)
FEATURE_PSI = Gauge(
    "driftloop_monitoring_feature_psi", "Last window's PSI per feature", ["model", "feature"]
)
FEATURE_TEST = Gauge(
    "driftloop_monitoring_feature_test_statistic",
    "Last window's KS or chi-squared statistic per feature",
    ["model", "feature"],
)
DRIFT_EVENTS = Counter(
    "driftloop_monitoring_drift_events_total",
    "Drift events emitted (after the cooldown)",
    ["model", "kind", "detector"],
)
CANARY_SHARE = Gauge(
    "driftloop_monitoring_canary_share", "Candidate traffic share of the active rollout", ["model"]
)
CANARY_METRIC = Gauge(
    "driftloop_monitoring_canary_metric",
    "The rollout metric per side over the rollout",
    ["model", "side"],
)
CANARY_PHASE = Gauge(
    "driftloop_monitoring_canary_phase",
    "1 for the rollout's current phase (started, stepping, decided, completed)",
    ["model", "phase"],
)
VERDICTS = Counter(
    "driftloop_monitoring_rollout_verdicts_total",
    "Rollouts decided, by verdict (promote, rollback)",
    ["model", "verdict"],
)
PHASES = ("started", "stepping", "decided", "completed")


class PrometheusMetrics:
    def quality(self, model: str, version: int, role: str, values: dict[str, float]) -> None:
        for metric, value in values.items():
            QUALITY.labels(model, str(version), role, metric).set(value)

    def prediction(self, model: str, version: int, role: str) -> None:
        PREDICTIONS.labels(model, str(version), role).inc()

    def labelled(self, model: str, version: int, role: str, lag_s: float) -> None:
        LABELLED.labels(model, str(version), role).inc()
        JOIN_LAG.labels(model).observe(lag_s)

    def unmatched(self, what: str, n: int) -> None:
        if n:
            UNMATCHED.labels(what).inc(n)

    def unjoinable(self, model: str) -> None:
        UNJOINABLE.labels(model).inc()

    def feature_drift(self, model: str, feature: str, psi: float, statistic: float) -> None:
        FEATURE_PSI.labels(model, feature).set(psi)
        FEATURE_TEST.labels(model, feature).set(statistic)

    def drift(self, model: str, kind: str, detector: str) -> None:
        DRIFT_EVENTS.labels(model, kind, detector).inc()

    def verdict(self, model: str, verdict: str) -> None:
        VERDICTS.labels(model, verdict).inc()

    def canary(self, model: str, phase: str, share: float, cand: float, champ: float) -> None:
        CANARY_SHARE.labels(model).set(share if phase in ("started", "stepping") else 0.0)
        CANARY_METRIC.labels(model, "candidate").set(cand)
        CANARY_METRIC.labels(model, "champion").set(champ)
        for p in PHASES:
            CANARY_PHASE.labels(model, p).set(1.0 if p == phase else 0.0)
