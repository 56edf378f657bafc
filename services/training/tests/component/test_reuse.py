"""Reuse before retrain: a concept that comes back gets its earlier model
back as the candidate, without training."""

from __future__ import annotations

from datetime import timedelta

from training_fakes import T0, fill, model_yaml

from driftloop_training.domain.runs import RunState, Trigger


async def test_a_recurring_concept_reuses_the_earlier_version_without_training(harness):
    h = await harness(model_yaml("m", cooldown_s=0))
    fill(h.store, 300)  # concept A
    await h.triggers.tick()
    await h.runs.wait_idle()
    assert h.fake.aliases[("m", "champion")] == 1

    # Concept B: no earlier version beats the champion there, so v2 is trained.
    fill(h.store, 300, seed=1, flip=True, prefix="b", start=300)
    await h.triggers.on_drift("m", "drift-b", T0 + timedelta(seconds=300), "drift-b")
    await h.runs.wait_idle()
    (to_b,) = [r for r in h.store.list_runs("m") if r.drift_id == "drift-b"]
    assert to_b.state is RunState.COMPLETED and not to_b.reused, to_b.error
    assert to_b.version == 2 and h.fake.aliases[("m", "candidate")] == 2
    # The rollout promoted it (as the registry would on monitoring's verdict).
    h.fake.aliases[("m", "champion")] = 2
    del h.fake.aliases[("m", "candidate")]

    # Concept A again: v1 beats the champion on the post-drift window.
    fill(h.store, 300, seed=2, prefix="c", start=600)
    await h.triggers.on_drift("m", "drift-a", T0 + timedelta(seconds=600), "drift-a")
    await h.runs.wait_idle()
    (back,) = [r for r in h.store.list_runs("m") if r.drift_id == "drift-a"]
    assert back.trigger is Trigger.DRIFT and back.state is RunState.COMPLETED, back.error
    assert back.reused and back.version == 1 and back.gate_passed
    assert "reused v1" in back.gate_reason
    assert back.metrics["accuracy"] > back.champion_metrics["accuracy"] + 0.5
    assert back.champion_version == 2
    assert ("m", 3) not in h.fake.versions  # nothing trained or registered
    assert h.fake.aliases[("m", "candidate")] == 1
    assert back.library_versions == {}  # no trainer ran
    assert [e[0] for e in h.events.log if e[1] == back.run_id] == [
        "requested",
        "started",
        "completed",
    ]


async def test_reuse_can_be_switched_off(harness):
    h = await harness(model_yaml("m", cooldown_s=0, reuse_earlier="false"))
    fill(h.store, 300)
    await h.triggers.tick()
    await h.runs.wait_idle()
    fill(h.store, 300, seed=1, flip=True, prefix="b", start=300)
    h.fake.aliases[("m", "champion")] = 1
    await h.triggers.on_drift("m", "drift-b", T0 + timedelta(seconds=300), "drift-b")
    await h.runs.wait_idle()
    h.fake.aliases[("m", "champion")] = 2
    fill(h.store, 300, seed=2, prefix="c", start=600)
    await h.triggers.on_drift("m", "drift-a", T0 + timedelta(seconds=600), "drift-a")
    await h.runs.wait_idle()
    (back,) = [r for r in h.store.list_runs("m") if r.drift_id == "drift-a"]
    assert not back.reused and back.version == 3, back.error
