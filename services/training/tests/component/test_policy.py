"""Policy triggers: every N new labels and every T seconds, once a champion
exists. The trainer is an in-process stand-in (the worker is covered in
test_runs.py): these tests are about when runs start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from training_fakes import fill, model_yaml
from training_trainers import good

from driftloop_training.adapters.trainers import library_versions, to_onnx
from driftloop_training.domain.runs import Trigger
from driftloop_training.service.ports import TrainResult


class InstantTrainer:
    def __init__(self) -> None:
        self.calls = 0

    async def train(self, job):
        self.calls += 1
        artifact = to_onnx(good(job.X, job.y, job.feature_names), job.task, job.X.shape[1])
        return TrainResult(artifact, library_versions())


async def start(harness, **policy):
    h = await harness(model_yaml("m", **policy))
    X, y = fill(h.store, 200)
    h.fake.add_champion("m", to_onnx(good(X, y, []), "classification", X.shape[1]))
    h.runs.trainer = InstantTrainer()
    return h


async def test_every_n_labels(harness):
    h = await start(harness, every_n_labels=50)
    await h.triggers.tick()  # 200 new labelled rows, no run yet
    await h.runs.wait_idle()
    await h.triggers.tick()  # nothing new since that run
    await h.runs.wait_idle()
    assert [r.trigger for r in h.store.list_runs("m")] == [Trigger.LABEL_COUNT]
    fill(h.store, 49, seed=1, prefix="more")
    await h.triggers.tick()
    assert len(h.store.list_runs("m")) == 1
    fill(h.store, 1, seed=2, prefix="last")
    await h.triggers.tick()
    await h.runs.wait_idle()
    assert [r.trigger for r in h.store.list_runs("m")] == [Trigger.LABEL_COUNT] * 2
    assert h.runs.trainer.calls == 2


async def test_every_seconds(harness):
    h = await start(harness, every_seconds=600)
    now = datetime.now(UTC)
    h.runs.clock = lambda: now
    await h.triggers.tick()
    await h.runs.wait_idle()
    await h.triggers.tick()
    assert [r.trigger for r in h.store.list_runs("m")] == [Trigger.SCHEDULE]
    h.runs.clock = lambda: now + timedelta(seconds=601)
    await h.triggers.tick()
    await h.runs.wait_idle()
    assert [r.trigger for r in h.store.list_runs("m")] == [Trigger.SCHEDULE] * 2


async def test_no_policy_no_runs_while_a_champion_serves(harness):
    h = await start(harness)
    for _ in range(3):
        await h.triggers.tick()
    assert h.store.list_runs("m") == []


async def test_an_older_alias_changed_does_not_undo_a_newer_one(harness):
    h = await start(harness)
    h.triggers.on_alias_changed("m", "champion", 2, sequence=7)
    h.triggers.on_alias_changed("m", "champion", 0, sequence=5)  # re-delivered, older
    assert h.triggers.has_champion["m"] is True
    h.triggers.on_alias_changed("m", "champion", 0, sequence=8)
    assert h.triggers.has_champion["m"] is False
