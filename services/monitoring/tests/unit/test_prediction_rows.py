"""A multi-row request's PredictionMade carries its rows in one event;
monitoring reads one prediction per row with the record ids serving used
before (``<id>/<i>``), so each row joins its own label exactly."""

from __future__ import annotations

import pytest

from driftloop.common.v1 import common_pb2
from driftloop.serving.v1.events_pb2 import PredictionMade
from driftloop_monitoring import synthetic
from driftloop_monitoring.codec import converters
from driftloop_monitoring.domain.model import Label
from driftloop_monitoring.service.monitor import Monitor
from driftloop_monitoring.service.policies import Policies
from driftloop_monitoring.service.ports import MemoryStore


def batch_event(model: str, n: int) -> PredictionMade:
    e = PredictionMade(
        meta=common_pb2.EventMeta(event_id="ev-1"),
        record_id="q",
        model=common_pb2.ModelRef(name=model, version=1),
        role=common_pb2.MODEL_ROLE_CHAMPION,
        feature_names=["a", "b"],
    )
    e.rows.count = n
    e.rows.features.extend(float(v) for v in range(2 * n))
    e.rows.predictions.extend(float(i % 2) for i in range(n))
    e.rows.probabilities.extend(p for i in range(n) for p in (0.9 - i * 0.1, 0.1 + i * 0.1))
    return e


def test_rows_become_one_prediction_each_with_numbered_record_ids():
    ps = converters.predictions_from(batch_event("rows-m", 3))
    assert [p.record_id for p in ps] == ["q/0", "q/1", "q/2"]
    assert [p.prediction for p in ps] == [0.0, 1.0, 0.0]
    assert ps[2].features == (4.0, 5.0) and ps[2].probabilities == pytest.approx((0.7, 0.3))
    assert all(p.joinable and p.feature_names == ("a", "b") for p in ps)


def test_each_row_joins_its_own_label():
    model = "rows-join"
    clock = [0.0]
    m = Monitor(MemoryStore(), Policies(None), clock=lambda: clock[0])
    m.on_version(synthetic.reference(model=model))
    m.on_alias(model, "champion", 1, 0, event_id="a1")
    for p in converters.predictions_from(batch_event(model, 4)):
        m.on_prediction(p)
    m.on_label(Label("q/2", 0.0, 1.0))
    m.on_label(Label("q", 1.0, 1.0))  # the request's own id matches no row
    assert m.join.counts.joined == 1
    assert sorted(k[0] for k in m.join.buffer.predictions) == ["q/0", "q/1", "q/3"]


def test_rows_that_do_not_split_are_rejected():
    e = batch_event("rows-bad", 3)
    e.rows.features.append(1.0)
    with pytest.raises(ValueError, match="rows"):
        converters.predictions_from(e)
    e = batch_event("rows-bad", 3)
    e.rows.count = 4
    with pytest.raises(ValueError, match="rows"):
        converters.predictions_from(e)
