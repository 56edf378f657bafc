"""The SQLite store keeps the join buffer, the catalog, rollouts and cooldowns
across a restart."""

from __future__ import annotations

from driftloop_monitoring import synthetic
from driftloop_monitoring.adapters.sqlite_store import SqliteStore
from driftloop_monitoring.domain.model import Label, Prediction
from driftloop_monitoring.service.monitor import Monitor
from driftloop_monitoring.service.policies import Policies


def test_state_survives_a_restart(tmp_path):
    clock = [100.0]
    store = SqliteStore(tmp_path / "m.db")
    m = Monitor(store, Policies(None), clock=lambda: clock[0])
    m.on_version(synthetic.reference())
    m.on_alias("m", "champion", 1, 0, event_id="a1")
    m.on_alias("m", "candidate", 2, 0, event_id="a2", correlation_id="drift-9")
    m.on_prediction(Prediction("r1", "m", 1, "champion", 1.0, latency_ms=3.0, at=99.0))
    m.on_prediction(Prediction("r2", "m", 1, "champion", 0.0, at=99.0))
    m.on_label(Label("r2", 0.0, at=100.0))
    m.on_label(Label("r3", 1.0, at=100.0))
    m.flush()
    # No close: as after kill -9.

    again = Monitor(SqliteStore(tmp_path / "m.db"), Policies(None), clock=lambda: clock[0])
    assert again.models["m"].champion == 1 and again.models["m"].candidate == 2
    assert again.models["m"].versions[1].features == synthetic.reference().features
    r = again.rollout("m")
    assert (r.candidate, r.correlation_id, r.champ.predictions) == (2, "drift-9", 2)
    assert again.join.pending() == (1, 2)
    joined = again.on_label(Label("r1", 1.0, at=101.0))
    assert joined == [] and again.join.counts.joined == 1  # r1 joined, quietly
    # r2 already joined before the restart: a redelivery is not counted twice.
    again.on_prediction(Prediction("r2", "m", 1, "champion", 0.0, at=99.0))
    assert again.join.counts.duplicates == 1


def test_an_older_alias_event_is_ignored_even_after_a_restart(tmp_path):
    store = SqliteStore(tmp_path / "m.db")
    m = Monitor(store, Policies(None))
    m.on_alias("m", "champion", 2, 1, event_id="a2", sequence=12)
    m.flush()
    again = Monitor(SqliteStore(tmp_path / "m.db"), Policies(None))
    assert again.on_alias("m", "champion", 1, 0, event_id="a1", sequence=11) == []
    assert again.models["m"].champion == 2
    again.on_alias("m", "champion", 3, 2, event_id="a3", sequence=13)
    assert again.models["m"].champion == 3
