"""The label join: labels before, after and never; duplicates; several versions."""

from __future__ import annotations

from driftloop_monitoring.domain.join import LabelJoin
from driftloop_monitoring.domain.model import Label, Prediction


def pred(rid: str, version: int = 1, at: float = 100.0) -> Prediction:
    return Prediction(rid, "m", version, "champion", 1.0, at=at)


def make(wait: float = 60.0) -> LabelJoin:
    return LabelJoin(lambda model: wait)


def test_a_label_after_its_prediction_joins_with_the_lag():
    j = make()
    assert j.add_prediction(pred("r1", at=100.0), now=100.0) == []
    out = j.add_label(Label("r1", 1.0, at=130.0), now=130.0)
    assert [(x.prediction.record_id, x.label.value, x.lag_s) for x in out] == [("r1", 1.0, 30.0)]
    assert j.pending() == (0, 1)


def test_a_label_before_its_prediction_joins_when_the_prediction_comes():
    j = make()
    assert j.add_label(Label("r1", 0.0, at=90.0), now=90.0) == []
    out = j.add_prediction(pred("r1"), now=100.0)
    assert [x.label.value for x in out] == [0.0]
    assert j.counts.joined == 1


def test_a_label_that_never_comes_ages_out_and_is_counted():
    j = make(wait=60.0)
    j.add_prediction(pred("r1"), now=100.0)
    j.add_prediction(pred("r2"), now=150.0)
    assert j.expire(now=159.0) == []
    assert [p.record_id for p in j.expire(now=161.0)] == ["r1"]
    assert j.counts.unmatched_predictions == 1
    assert j.pending() == (1, 0)
    # A label after the wait finds nothing and is itself counted once it ages out.
    assert j.add_label(Label("r1", 1.0), now=170.0) == []
    j.expire(now=300.0)
    assert j.counts.unmatched_labels == 1 and j.counts.unmatched_predictions == 2


def test_one_label_serves_champion_and_candidate_and_each_counts_once():
    j = make()
    j.add_prediction(pred("r1", version=1), now=100.0)
    out = j.add_label(Label("r1", 1.0), now=101.0)
    out += j.add_prediction(pred("r1", version=2), now=102.0)
    assert sorted(x.prediction.version for x in out) == [1, 2]
    # Redelivered predictions and labels do not count again.
    assert j.add_prediction(pred("r1", version=1), now=103.0) == []
    assert j.add_label(Label("r1", 1.0), now=104.0) == []
    assert j.counts.joined == 2 and j.counts.duplicates == 2
    j.expire(now=1000.0)
    assert j.counts.unmatched_labels == 0 and j.pending() == (0, 0)
