"""The Prometheus adapter reports quality, join lag, drift statistics, drift
events and canary state per model/version/role."""

from __future__ import annotations

from prometheus_client import REGISTRY

from driftloop_monitoring import synthetic
from driftloop_monitoring.adapters.prometheus import PrometheusMetrics
from driftloop_monitoring.service.monitor import Monitor
from driftloop_monitoring.service.policies import Policies
from driftloop_monitoring.service.ports import MemoryStore


def value(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_metrics_follow_the_stream():
    model = "metrics-m"
    clock = [0.0]
    m = Monitor(MemoryStore(), Policies(None), metrics=PrometheusMetrics(), clock=lambda: clock[0])
    m.on_version(synthetic.reference(model=model))
    m.on_alias(model, "champion", 1, 0, event_id="a1")
    for row in synthetic.rows(2000, seed=4, shift_feature="x2", shift_at=1000):
        clock[0] += 0.5
        m.on_prediction(synthetic.prediction(row, model=model, at=clock[0]))
        m.on_label(synthetic.label(row, at=clock[0] + 2.0))
    roles = dict(model=model, version="1", role="champion")
    assert value("driftloop_monitoring_predictions_total", **roles) == 2000
    assert value("driftloop_monitoring_labelled_total", **roles) == 2000
    assert 0.85 < value("driftloop_monitoring_quality", metric="accuracy", **roles) < 0.95
    assert value("driftloop_monitoring_label_join_lag_seconds_count", model=model) == 2000
    assert value("driftloop_monitoring_label_join_lag_seconds_sum", model=model) == 4000
    assert value("driftloop_monitoring_feature_psi", model=model, feature="x2") > 0.2
    assert value("driftloop_monitoring_feature_psi", model=model, feature="x0") < 0.1
    assert (
        value("driftloop_monitoring_drift_events_total", model=model, kind="data", detector="psi")
        == 1
    )


def test_decided_rollouts_are_counted_by_verdict():
    from driftloop_monitoring.domain.events import RolloutChanged

    m = Monitor(MemoryStore(), Policies(None), metrics=PrometheusMetrics())
    before = value("driftloop_monitoring_rollout_verdicts_total", model="v-m", verdict="rollback")
    for kind in ("stepped", "decided"):
        m.report_rollout(RolloutChanged(kind, "r1", "v-m", 1, 2, verdict="rollback"))
    after = value("driftloop_monitoring_rollout_verdicts_total", model="v-m", verdict="rollback")
    assert (before or 0.0) + 1 == after
