"""The closed loop end to end: six real processes, the real broker, real gRPC,
and the demo's producer, prediction client and labeller driving them."""

import asyncio

import pytest

from driftloop.feature.v1.events_pb2 import FeatureVectorComputed
from driftloop.platform import topics
from driftloop.platform.testing import read_from
from driftloop.serving.v1.events_pb2 import PredictionMade
from driftloop_cli.demo.run import DemoConfig, DemoRun, run_demo, summary
from driftloop_cli.supervisor import Platform

# One xdist group: the loop tests run one after another, beside the rest of the suite.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900), pytest.mark.xdist_group("e2e")]

#: The longest a loop test's demo streams. A test ends `stop_after_loop_s`
#: after the loop's rollout completed (about two minutes after the change on a
#: quiet machine); a busy machine's loop takes longer, and the stream must not
#: run out before the verdict it waits for.
LONGEST_S = 420.0


def _until_loop(onset_s: float, **config) -> dict:
    """A demo whose concept changes ``onset_s`` into the run and that streams
    until the loop finished (or for LONGEST_S)."""
    return dict(duration_s=LONGEST_S, drift_at=onset_s / LONGEST_S, **config)


async def _run(platform: Platform, **config) -> tuple[DemoRun, dict]:
    settings = platform.settings
    run = await run_demo(DemoConfig(**config), settings.kafka, settings.address_of)
    s = summary(run)
    # The whole story, shown with a failure (assertion messages are cut short).
    for event in s["events"]:
        print(f"{event['at']:8.2f}  {event['what']}")
    print("counts:", s["counts"])
    return run, s


def _version(event) -> int:
    return int(event.body.get("version", 0))


async def test_abrupt_drift_is_retrained_canaried_and_promoted(platform):
    run, s = await _run(
        platform,
        **_until_loop(60, rate=120, drift="abrupt", label_delay_s=3, stop_after_loop_s=25),
    )
    tl = run.timeline
    assert s["counts"]["prediction_failures"] == 0, s["counts"]
    assert run.onset_at is not None

    # Exactly one retrain after the change, and it became the champion.
    drift = tl.first("DriftDetected", after=run.onset_at)
    assert drift is not None, s["events"]
    requested = [e for e in tl.of("TrainingRequested") if e.at >= run.onset_at]
    assert len(requested) == 1, s["events"]
    completed = next(
        e for e in tl.of("TrainingCompleted") if e.body["run_id"] == requested[0].body["run_id"]
    )
    assert completed.body["gate_passed"] is True
    new_version = _version(completed)
    assert s["verdict"] == "promote", s["events"]
    promoted = [
        e
        for e in tl.of("AliasChanged")
        if e.body["alias"] == "champion" and _version(e) == new_version
    ]
    assert promoted, s["events"]

    # Every step is an event, linked by causation from the drift onwards.
    assert requested[0].body["drift_id"] == drift.event_id
    assert requested[0].causation_id == drift.event_id
    candidate = next(
        e
        for e in tl.of("AliasChanged")
        if e.body["alias"] == "candidate" and _version(e) == new_version
    )
    started = next(
        e for e in tl.of("RolloutStarted") if int(e.body["candidate"]["version"]) == new_version
    )
    decided = next(
        e for e in tl.of("RolloutDecided") if int(e.body["candidate"]["version"]) == new_version
    )
    for event in (requested[0], completed, candidate, started, decided, promoted[0]):
        assert event.correlation_id == drift.event_id, (event.type, event.correlation_id)
    assert started.causation_id == candidate.event_id
    assert promoted[0].causation_id == decided.event_id
    # Caused by the alias change (events of two topics may reach the demo in any order).
    assert any(e.causation_id == promoted[0].event_id for e in tl.of("RolloutCompleted"))

    # The platform recovered: back within 5 points of the accuracy before drift.
    acc = s["accuracy"]
    assert acc["after_recovery"] is not None, s
    assert acc["after_recovery"] >= acc["before_drift"] - 0.05, acc


async def test_a_prior_shifting_concept_drift_on_a_users_own_spec_is_recovered(stagger_platform):
    # Issue 20: STAGGER concept 0 -> 2 moves the positive share from 11 % to
    # 67 %. A correct retrained candidate predicts very differently from the
    # champion; label evidence must promote it, not the prediction PSI (with
    # 30-100 predictions per side) roll it back and leave the loop stalled.
    run, s = await _run(
        stagger_platform,
        **_until_loop(80, rate=120, drift="abrupt", label_delay_s=3, stop_after_loop_s=10),
        generator="stagger",
        stream="shapes",
        view="shape_features",
        model="shape-approval",
    )
    tl = run.timeline
    story = [(e["at"], e["what"]) for e in s["events"]]
    assert s["counts"]["prediction_failures"] == 0, s["counts"]
    assert run.onset_at is not None and tl.champion > 0, story
    decided = [e for e in tl.of("RolloutDecided") if e.at >= run.onset_at]
    assert [_verdict(e) for e in decided] == ["promote"], (run.onset_at, story)
    promoted = int(decided[0].body["candidate"]["version"])
    assert any(
        e.body["alias"] == "champion" and _version(e) == promoted for e in tl.of("AliasChanged")
    ), story
    # What users were served after the recovery is the new concept.
    acc = s["accuracy"]
    assert acc["right_after_drift"] is not None and acc["after_recovery"] is not None, acc
    assert acc["after_recovery"] >= 0.9 > acc["right_after_drift"], acc


async def test_a_recurring_concept_gets_its_earlier_model_back_without_training(platform):
    # Concept A, then B (retrained, promoted), then A again: the first model
    # beats the champion on the post-drift window and is rolled out as it is.
    # A for 105 s, B for 105 s (its rollout must finish before A returns),
    # then A until the second rollout finished.
    run, s = await _run(
        platform,
        **_until_loop(105, rate=120, drift="recurring", label_delay_s=3, stop_after_loop_s=10),
    )
    tl = run.timeline
    story = [(e["at"], e["what"]) for e in s["events"]]
    assert s["counts"]["prediction_failures"] == 0, s["counts"]
    champions = [_version(e) for e in tl.of("AliasChanged") if e.body["alias"] == "champion"]
    assert len(champions) >= 3, story  # A's model, B's model, A's model again
    first = champions[0]
    completed = [e for e in tl.of("TrainingCompleted") if e.at >= run.onset_at]
    reused = [e for e in completed if e.body.get("reused")]
    assert len(reused) == 1 and _version(reused[0]) == first, story
    assert reused[0].body["gate_passed"] is True
    # Nothing was trained for the comeback: one drift run registered a version.
    registered = [e for e in completed if not e.body.get("reused")]
    assert len(registered) == 1, story
    assert champions[-1] == first, story
    decided = [e for e in tl.of("RolloutDecided") if int(e.body["candidate"]["version"]) == first]
    assert [_verdict(e) for e in decided] == ["promote"], story
    assert decided[0].correlation_id == reused[0].correlation_id


async def test_a_bad_candidate_is_rolled_back_and_the_champion_never_changes(platform):
    run, s = await _run(
        platform,
        duration_s=LONGEST_S,  # ends 5 s after the rollback
        rate=120,
        drift="none",
        bad_candidate=True,
        label_delay_s=3,
        stop_after_loop_s=5,
    )
    tl = run.timeline
    assert run.bad_candidate_version > 0, s["counts"]
    decided = [
        e
        for e in tl.of("RolloutDecided")
        if int(e.body["candidate"]["version"]) == run.bad_candidate_version
    ]
    assert [_verdict(e) for e in decided] == ["rollback"], s["events"]
    champions = [_version(e) for e in tl.of("AliasChanged") if e.body["alias"] == "champion"]
    assert len(champions) == 1 and champions[0] != run.bad_candidate_version, champions
    assert s["counts"]["prediction_failures"] == 0, s["counts"]
    assert s["counts"]["predicted"] > 0


async def test_no_drift_no_retrain_no_rollout(platform):
    # Long enough for the first model to train on a busy machine and then
    # serve several data-drift windows (1,000 vectors each at 120 records/s).
    run, s = await _run(platform, duration_s=150, rate=120, drift="none", label_delay_s=3)
    tl = run.timeline
    assert tl.champion > 0, s["events"]
    assert s["counts"]["predicted"] >= 3000, s["counts"]
    # No drift event of any kind: the labels agree with the model, and the
    # rolling feature's reference was profiled past its warm-up (issue 20).
    assert tl.of("DriftDetected") == [], s["events"]
    assert len(tl.of("TrainingRequested")) == 1  # the initial model only
    assert tl.of("RolloutStarted") == []
    assert s["counts"]["prediction_failures"] == 0


async def test_the_loop_survives_kill_9_of_feature_and_monitoring(platform):
    config = _until_loop(70, rate=120, drift="abrupt", label_delay_s=3, stop_after_loop_s=15)
    demo = asyncio.create_task(_run(platform, **config))

    async def crash_and_restart(name: str, when) -> None:
        while not when():
            await asyncio.sleep(0.2)
        await platform.kill(name)
        await platform.restart(name)

    started = asyncio.get_running_loop().time()
    await crash_and_restart("feature", lambda: asyncio.get_running_loop().time() - started > 35)
    await crash_and_restart("monitoring", lambda: asyncio.get_running_loop().time() - started > 85)
    run, s = await demo
    assert s["verdict"] == "promote", s["events"]
    assert s["counts"]["prediction_failures"] == 0, s["counts"]
    assert s["counts"]["accepted"] == s["counts"]["sent"]

    # No record was lost: every accepted record has its feature vector, and
    # every record accepted once a champion served was scored (after dedupe).
    ours = set(run.accepted_at)
    kafka = platform.settings.kafka
    vectors = await read_from(
        kafka, topics.FEATURES.name, None, timeout_s=20, idle_s=2, count=len(ours)
    )
    vector_ids = {FeatureVectorComputed.FromString(r.value).record_id for r in vectors}
    assert ours <= vector_ids, f"{len(ours - vector_ids)} records have no vector"
    champion_at = run.timeline.first("ModelLoaded")
    assert champion_at is not None
    predictions = await read_from(kafka, topics.PREDICTIONS.name, None, timeout_s=20, idle_s=2)
    predicted_ids = {PredictionMade.FromString(r.value).record_id for r in predictions}
    due = {rid for rid, at in run.accepted_at.items() if at > champion_at.at + 2}
    assert due and due <= predicted_ids, f"{len(due - predicted_ids)} records never predicted"


def _verdict(event) -> str:
    """A decided rollout's verdict in the demo's words ("promote", "rollback")."""
    return str(event.body["verdict"]).removeprefix("VERDICT_").lower()
