"""Predictions without a usable record id (tritonclient sends none by
default) are counted as unjoinable, kept for drift, never dead-lettered and
never held for a label."""

from __future__ import annotations

from prometheus_client import REGISTRY

from driftloop.common.v1 import common_pb2
from driftloop.serving.v1.events_pb2 import PredictionMade
from driftloop_monitoring import synthetic
from driftloop_monitoring.adapters.prometheus import PrometheusMetrics
from driftloop_monitoring.codec import converters
from driftloop_monitoring.service.monitor import Monitor
from driftloop_monitoring.service.policies import Policies
from driftloop_monitoring.service.ports import MemoryStore


def event(model: str, i: int, record_id: str, generated: bool) -> PredictionMade:
    return PredictionMade(
        meta=common_pb2.EventMeta(event_id=f"ev-{model}-{i}"),
        record_id=record_id,
        record_id_generated=generated,
        model=common_pb2.ModelRef(name=model, version=1),
        role=common_pb2.MODEL_ROLE_CHAMPION,
        prediction=1.0,
    )


def test_missing_or_generated_ids_are_unjoinable_and_counted():
    model = "unjoinable-m"
    clock = [0.0]
    m = Monitor(MemoryStore(), Policies(None), metrics=PrometheusMetrics(), clock=lambda: clock[0])
    m.on_version(synthetic.reference(model=model))
    m.on_alias(model, "champion", 1, 0, event_id="a1")
    events = [event(model, i, "", False) for i in range(3)]
    events += [event(model, i, f"gen-{i}", True) for i in range(3, 7)]
    events += [event(model, 7, "r7", False)]
    predictions = [p for e in events for p in converters.predictions_from(e)]  # none rejected
    assert [p.joinable for p in predictions] == [False] * 7 + [True]
    assert len({p.record_id for p in predictions}) == 8  # still unique
    for p in predictions:
        m.on_prediction(p)

    def value(name: str, **labels: str) -> float | None:
        return REGISTRY.get_sample_value(name, labels)

    assert value("driftloop_monitoring_unjoinable_predictions_total", model=model) == 7
    assert (
        value("driftloop_monitoring_predictions_total", model=model, version="1", role="champion")
        == 8
    )
    assert len(m.join.buffer.predictions) == 1  # only r7 waits for its label
    clock[0] += 1e6
    before = m.join.counts.unmatched_predictions
    m.tick()
    assert m.join.counts.unmatched_predictions - before == 1
