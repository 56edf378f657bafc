"""Runs end to end against a fake registry: initial champion, gate,
reproducibility, debouncing, and trainers that misbehave."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import onnxruntime as ort
import pytest
from training_fakes import T0, fill, model_yaml, synthetic
from training_trainers import good

from driftloop.training.v1 import run_pb2, training_service_pb2
from driftloop_training.adapters.trainers import to_onnx
from driftloop_training.domain.runs import RunState, Trigger


def predict(artifact: bytes, X) -> np.ndarray:
    session = ort.InferenceSession(artifact, providers=["CPUExecutionProvider"])
    return session.run(["probabilities"], {"input": X.astype(np.float32)})[0]


async def test_first_version_becomes_champion_with_lineage_and_profile(harness):
    h = await harness(model_yaml("m"))
    fill(h.store, 300)
    await h.triggers.tick()
    await h.runs.wait_idle()

    (run,) = h.store.list_runs("m")
    assert run.trigger is Trigger.INITIAL and run.state is RunState.COMPLETED, run.error
    assert h.fake.aliases[("m", "champion")] == run.version == 1
    meta = h.fake.metadata[("m", 1)]
    assert meta.run_id == run.run_id and meta.dataset_snapshot_id == run.snapshot.snapshot_id
    assert meta.feature_view == "v" and meta.feature_view_version == 1 and meta.feature_width == 4
    assert meta.metrics["accuracy"] > 0.8 and {"roc_auc", "log_loss"} <= set(meta.metrics)
    profile = meta.reference_profile
    assert [f.name for f in profile.features] == ["f0", "f1", "f2", "f3"]
    assert sum(profile.features[0].counts) == profile.rows == run.snapshot.rows - 60
    assert sorted(profile.label.categories) == ["0", "1"] and profile.prediction.count > 0
    assert run.library_versions["scikit-learn"] and run.seed == 3
    # The artifact honours the serving contract.
    session = ort.InferenceSession(h.fake.artifacts[("m", 1)], providers=["CPUExecutionProvider"])
    assert [(i.name, i.type, i.shape[1]) for i in session.get_inputs()] == [
        ("input", "tensor(float)", 4)
    ]
    assert [o.name for o in session.get_outputs()] == ["label", "probabilities"]
    assert [e[0] for e in h.events.log] == ["requested", "started", "completed"]
    # A second tick does not train again: the model has a champion now.
    await h.triggers.tick()
    assert len(h.store.list_runs("m")) == 1


async def test_an_initial_trigger_that_looked_before_the_champion_was_set_is_refused(harness):
    # The trigger loop saw no champion, then a first run set one and completed
    # before the loop's request: the request must not start a second first run.
    h = await harness(model_yaml("m"))
    X, y = fill(h.store, 300)
    h.fake.add_champion("m", to_onnx(good(X, y, []), "classification", X.shape[1]))
    run, decision = await h.runs.request("m", Trigger.INITIAL)
    assert run is None and decision.reason == "the model has a champion"
    assert h.store.list_runs("m") == [] and h.events.log == []


async def test_worse_model_is_registered_but_not_candidate(harness):
    h = await harness(model_yaml("m", trainer="callable: 'training_trainers:worse'"))
    X, y = fill(h.store, 300)
    h.fake.add_champion("m", to_onnx(good(X, y, []), "classification", X.shape[1]))

    reply = await h.client.StartTraining(training_service_pb2.StartTrainingRequest(model="m"))
    assert reply.accepted, reply.message
    await h.runs.wait_idle()
    run = await h.client.GetRun(training_service_pb2.GetRunRequest(run_id=reply.run_id))
    assert run.state == run_pb2.RUN_STATE_COMPLETED, run.error
    assert run.version == 2 and not run.gate_passed
    assert run.metrics["accuracy"] < run.champion_metrics["accuracy"] - 0.5
    assert ("m", 2) in h.fake.versions  # registered ...
    assert h.fake.metadata[("m", 2)].parent_version == 1
    assert ("m", "candidate") not in h.fake.aliases  # ... but not the candidate
    assert h.fake.aliases[("m", "champion")] == 1
    (completed,) = h.events.of("completed")
    assert completed[1] == reply.run_id


async def test_same_snapshot_and_seed_give_identical_predictions(harness):
    h = await harness(model_yaml("m", trainer="builtin: hist_gradient_boosting"))
    fill(h.store, 300)
    first = await h.client.StartTraining(training_service_pb2.StartTrainingRequest(model="m"))
    await h.runs.wait_idle()
    snap = h.store.get_run(first.run_id).snapshot.snapshot_id
    # More data arrives; the pinned snapshot must not see it.
    fill(h.store, 100, seed=9, prefix="late")
    second = await h.client.StartTraining(
        training_service_pb2.StartTrainingRequest(model="m", snapshot_id=snap)
    )
    assert second.accepted, second.message
    await h.runs.wait_idle()
    a, b = h.store.get_run(first.run_id), h.store.get_run(second.run_id)
    assert a.state is b.state is RunState.COMPLETED, (a.error, b.error)
    assert b.snapshot.snapshot_id == snap and b.seed == a.seed
    X, _, _ = synthetic(50, seed=42)
    pa = predict(h.fake.artifacts[("m", a.version)], X)
    pb = predict(h.fake.artifacts[("m", b.version)], X)
    assert np.array_equal(pa, pb)
    # A different seed is a different run of the same data (recorded as such).
    assert a.params == b.params and a.library_versions == b.library_versions


async def test_drift_burst_makes_one_run_and_one_candidate(harness):
    h = await harness(model_yaml("m", gate_margin=0.5))
    fill(h.store, 300)
    await h.triggers.tick()
    await h.runs.wait_idle()
    assert h.fake.aliases[("m", "champion")] == 1
    started = T0 + timedelta(seconds=100)
    for _ in range(5):
        await h.triggers.on_drift("m", "drift-a", started, "drift-a")
    await h.triggers.on_drift("m", "drift-b", started, "drift-b")
    await h.triggers.on_drift("m", "drift-c", started, "drift-c")
    await h.runs.wait_idle()
    # Later duplicates (redelivery) after the run finished are still absorbed.
    await h.triggers.on_drift("m", "drift-a", started, "drift-a")
    await h.triggers.on_drift("m", "drift-d", started, "drift-d")
    await h.runs.wait_idle()

    drift_runs = [r for r in h.store.list_runs("m") if r.trigger is Trigger.DRIFT]
    assert len(drift_runs) == 1
    (run,) = drift_runs
    assert run.state is RunState.COMPLETED and run.drift_id == "drift-a", run.error
    assert run.snapshot.start >= started and run.snapshot.rows == 200
    assert [r.alias for r in h.fake.alias_requests] == ["champion", "candidate"]
    assert h.fake.aliases[("m", "candidate")] == run.version == 2
    assert h.fake.alias_requests[-1].expected_version == 0
    assert h.fake.metadata[("m", 2)].parent_version == 1


CASES = [
    ("raises", "raises"),
    ("hangs", "hangs"),
    ("garbage", "garbage"),
    ("bytes", "garbage_bytes"),
    ("hog", "hog"),
]
EXPECTED = {
    "raises": (RunState.FAILED, "trainer_error"),
    "hangs": (RunState.FAILED, "timeout"),
    "garbage": (RunState.FAILED, "invalid_output"),
    "bytes": (RunState.FAILED, "invalid_output"),
    "hog": (RunState.FAILED, "memory"),
}


@pytest.mark.parametrize("start_method", ["forkserver", "spawn"])
async def test_misbehaving_trainers_fail_runs_and_service_stays_healthy(harness, start_method):
    # Every failure kind with the default fork server; the slow spawn path with two.
    cases = CASES if start_method == "forkserver" else CASES[:2]
    models = "".join(
        model_yaml(name, trainer=f"callable: 'training_trainers:{fn}'") for name, fn in cases
    ).replace("timeout_s: 60", "timeout_s: 4, memory_mb: 256")
    h = await harness(
        models + model_yaml("ok"), max_concurrent_runs=2, worker_start_method=start_method
    )
    fill(h.store, 150)
    for name, _ in cases:
        reply = await h.client.StartTraining(training_service_pb2.StartTrainingRequest(model=name))
        assert reply.accepted
    await h.runs.wait_idle()
    runs = {r.model: r for r in h.store.list_runs()}
    assert {m: (r.state, r.failure_kind) for m, r in runs.items()} == {
        name: EXPECTED[name] for name, _ in cases
    }, {m: r.error for m, r in runs.items()}
    assert "boom in user code" in runs["raises"].error
    assert len(h.events.of("failed")) == len(cases) and not h.fake.versions
    # Still serving, and a good run works afterwards.
    reply = await h.client.StartTraining(training_service_pb2.StartTrainingRequest(model="ok"))
    await h.runs.wait_idle()
    ok = await h.client.GetRun(training_service_pb2.GetRunRequest(run_id=reply.run_id))
    assert ok.state == run_pb2.RUN_STATE_COMPLETED, ok.error
    listed = await h.client.ListRuns(training_service_pb2.ListRunsRequest())
    assert len(listed.runs) == len(cases) + 1


async def test_regression_models_export_variable_and_gate_on_rmse(harness):
    h = await harness(model_yaml("r", trainer="builtin: ridge", task="regression"))
    fill(h.store, 300, regression=True)
    await h.triggers.tick()  # initial → champion
    await h.runs.wait_idle()
    reply = await h.client.StartTraining(training_service_pb2.StartTrainingRequest(model="r"))
    await h.runs.wait_idle()
    run = await h.client.GetRun(training_service_pb2.GetRunRequest(run_id=reply.run_id))
    assert run.state == run_pb2.RUN_STATE_COMPLETED, run.error
    assert set(run.metrics) == {"mae", "rmse"} and run.metrics["rmse"] < 0.2
    assert run.champion_metrics["rmse"] == pytest.approx(run.metrics["rmse"])
    assert run.gate_passed and h.fake.aliases[("r", "candidate")] == 2
    session = ort.InferenceSession(h.fake.artifacts[("r", 2)], providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["variable"]
    profile = h.fake.metadata[("r", 2)].reference_profile
    assert len(profile.label.bin_edges) > 2 and not profile.label.categories


async def test_data_drift_warns_but_retrains_only_when_the_policy_says_so(harness):
    h = await harness(model_yaml("m", gate_margin=0.5))
    fill(h.store, 300)
    await h.triggers.tick()
    await h.runs.wait_idle()
    started = T0 + timedelta(seconds=100)

    assert await h.triggers.on_drift("m", "drift-d", started, "drift-d", kind="data") is None
    await h.runs.wait_idle()
    assert [r for r in h.store.list_runs("m") if r.trigger is Trigger.DRIFT] == []

    run = await h.triggers.on_drift("m", "drift-c", started, "drift-c", kind="concept")
    await h.runs.wait_idle()
    assert run is not None
    assert [r.drift_id for r in h.store.list_runs("m") if r.trigger is Trigger.DRIFT] == ["drift-c"]
