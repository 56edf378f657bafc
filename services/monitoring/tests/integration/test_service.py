"""The monitoring service as a real process on the real broker, driven by
synthetic PredictionMade / LabelReceived / AliasChanged events: canary
verdicts (better promoted, worse rolled back, silent rolled back at the
timeout), the causation chain, a kill -9 in the middle of a rollout, concept
drift as one event, and bad input dead-lettered."""

from __future__ import annotations

import pytest
from monitoring_support import (
    WATCHED,
    Platform,
    alias,
    labelled,
    predictions_seen,
    spec_json,
    start_rollout,
    traffic,
)

from driftloop.bus.v1.deadletter_pb2 import EventDeadLettered
from driftloop.monitoring.v1 import events_pb2 as mon
from driftloop.platform import topics
from driftloop.platform.envelope import new_meta
from driftloop.platform.testing import (
    end_offsets,
    unique,
    wait_for,
)
from driftloop.serving.v1.events_pb2 import PredictionMade

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def platform(kafka, tmp_path_factory):
    # One process for the module: a start costs tens of seconds of consumer
    # group joins on the embedded broker.
    tmp_path = tmp_path_factory.mktemp("monitoring")
    models = {
        "better": {"rollout": {"steps": [0.5, 1.0], "min_labelled_per_side": 60, "timeout_s": 120}},
        "worse": {"rollout": {"steps": [0.5, 1.0], "min_labelled_per_side": 60, "timeout_s": 120}},
        "silent": {"rollout": {"timeout_s": 3}},
        "crash": {"rollout": {"steps": [0.5, 1.0], "min_labelled_per_side": 60, "timeout_s": 120}},
        "drifty": {"drift": {"cooldown_s": 600, "min_samples": 50, "window": 100}},
    }
    names = {k: unique(k) for k in models}
    p = Platform(kafka, tmp_path, spec_json({names[k]: v for k, v in models.items()}))
    p.names = names
    p.start()
    yield p
    assert p.proc is not None
    assert p.proc.terminate() == 0, p.proc.tail()


async def test_canary_verdicts_and_the_causation_chain(platform):
    p, n = platform, platform.names
    start = {t: await end_offsets(p.kafka, t) for t in WATCHED}
    cand = {m: await start_rollout(p, n[m], f"drift-{m}") for m in ("better", "worse", "silent")}
    for m in ("better", "worse", "silent"):
        evs = await p.events(start, topics.ROLLOUTS.name, n[m], 1)
        # (the silent one may already have timed out: its decision can follow)
        [started] = [e for e in evs if isinstance(e, mon.RolloutStarted)]
        assert (started.candidate.version, started.champion.version) == (2, 1)
        assert started.candidate_share == (0.1 if m == "silent" else 0.5)
        assert started.meta.causation_id == cand[m].meta.event_id
        assert started.meta.correlation_id == f"drift-{m}"

    await p.publish(traffic(n["better"], 600, {1: 0.7, 2: 0.95}, share=0.5))
    await p.publish(traffic(n["worse"], 600, {1: 0.95, 2: 0.7}, share=0.5))

    got = {
        m: await p.events(start, topics.ROLLOUTS.name, n[m], 2, timeout_s=60)
        for m in ("better", "worse", "silent")
    }
    verdicts = {m: [e for e in evs if isinstance(e, mon.RolloutDecided)] for m, evs in got.items()}
    assert {m: [d.verdict for d in v] for m, v in verdicts.items()} == {
        "better": [mon.VERDICT_PROMOTE],
        "worse": [mon.VERDICT_ROLLBACK],
        "silent": [mon.VERDICT_ROLLBACK],
    }
    better = verdicts["better"][0]
    assert better.evidence.candidate_value > better.evidence.champion_value
    assert better.evidence.candidate_samples >= 60 and better.evidence.champion_samples >= 60
    assert better.meta.correlation_id == "drift-better"
    assert "within" in verdicts["silent"][0].reason

    # The registry applies the promotion; monitoring then completes the rollout.
    await p.publish([alias(n["better"], "champion", 2, 1, caused_by=better.meta)])
    evs = await p.events(start, topics.ROLLOUTS.name, n["better"], 3, timeout_s=30)
    [done] = [e for e in evs if isinstance(e, mon.RolloutCompleted)]
    assert done.verdict == mon.VERDICT_PROMOTE and done.champion.version == 2
    assert done.meta.correlation_id == "drift-better"
    status = await p.status(n["better"])
    assert (status.phase, status.active) == ("completed", False)


async def test_a_rollout_survives_kill_9(platform):
    p, model = platform, platform.names["crash"]
    start = {t: await end_offsets(p.kafka, t) for t in WATCHED}
    await start_rollout(p, model, "drift-k")
    await p.events(start, topics.ROLLOUTS.name, model, 1)
    half = traffic(model, 600, {1: 0.7, 2: 0.95}, share=0.5, seed=3)
    # Some predictions now, the rest (and every label) after a crash.
    await p.publish(half[:200])
    await wait_for(lambda: predictions_seen(p, model, 200), timeout_s=30)
    p.proc.kill()
    p.start()
    await p.publish(half[200:])
    evs = await p.events(start, topics.ROLLOUTS.name, model, 2, timeout_s=60)
    assert [type(e).__name__ for e in evs] == ["RolloutStarted", "RolloutDecided"]
    assert evs[1].verdict == mon.VERDICT_PROMOTE
    assert evs[1].evidence.candidate_samples + evs[1].evidence.champion_samples >= 120


async def test_concept_drift_is_one_event_and_bad_input_is_dead_lettered(platform):
    p, model = platform, platform.names["drifty"]
    start = {t: await end_offsets(p.kafka, t) for t in WATCHED}
    await p.publish([alias(model, "champion", 1)])
    await wait_for(lambda: p.health(model), timeout_s=30)
    # Accurate for 1500 records, then a coin flip: one change.
    events = traffic(model, 1500, {1: 0.95, 2: 0.95}, share=0.0, seed=1)
    events += traffic(model, 1500, {1: 0.5, 2: 0.5}, share=0.0, seed=2)
    await p.publish(events)
    [drift] = await p.events(start, topics.DRIFT.name, model, 1, timeout_s=60)
    assert drift.kind == mon.DRIFT_KIND_CONCEPT and drift.detector == "adwin"
    assert drift.meta.event_id == drift.drift_id == drift.meta.correlation_id
    assert drift.model.version == 1 and drift.statistic > drift.threshold
    # Every record is joined (count in == out), and still one drift event.
    await wait_for(lambda: labelled(p, model, 3000), timeout_s=30)
    h = await p.health(model)
    assert [d.drift_id for d in h.recent_drift] == [drift.drift_id]

    # No record id is not an error (counted as unjoinable); no model is.
    bad = PredictionMade(meta=new_meta("serving"), record_id="r-bad")
    await p.publish([(bad, model)])
    [dead] = await p.events(start, topics.DEADLETTER.name, topics.PREDICTIONS.name, 1, timeout_s=30)
    assert isinstance(dead, EventDeadLettered) and "model.name" in dead.reason
