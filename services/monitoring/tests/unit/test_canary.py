"""The canary judge and the rollout use cases (no broker)."""

from __future__ import annotations

import random

from driftloop.platform.spec import ModelSpec, RolloutPolicy, Spec
from driftloop_monitoring.domain import canary
from driftloop_monitoring.domain.model import Label, Prediction
from driftloop_monitoring.service.monitor import Monitor
from driftloop_monitoring.service.policies import Policies
from driftloop_monitoring.service.ports import MemoryStore

POLICY = canary.Policy(steps=(0.1, 0.5, 1.0), min_labelled=200, margin=0.02, timeout_s=600)


def side(accuracy: float, n: int, seed: int, latency: float = 2.0) -> canary.Side:
    rng = random.Random(seed)
    s = canary.Side()
    for _ in range(n):
        s.add_prediction(float(rng.random() < 0.5), latency)
        s.add_score(float(rng.random() < accuracy))
    return s


def test_a_better_candidate_passes_and_a_worse_one_is_rolled_back():
    v = canary.judge(
        side(0.9, 400, 1), side(0.8, 400, 2), POLICY, labelled_at_last_step=0, elapsed_s=10
    )
    assert v is not None and v.action == canary.STEP
    assert v.evidence.candidate_samples == 400 and v.evidence.p_value < 0.05
    v = canary.judge(
        side(0.7, 400, 3), side(0.9, 400, 4), POLICY, labelled_at_last_step=0, elapsed_s=10
    )
    assert v is not None and v.action == canary.ROLLBACK and "worse" in v.reason


def test_too_few_samples_wait_and_no_evidence_by_the_timeout_rolls_back():
    few = canary.judge(
        side(0.9, 50, 1), side(0.8, 50, 2), POLICY, labelled_at_last_step=0, elapsed_s=10
    )
    assert few is None
    late = canary.judge(
        canary.Side(), canary.Side(), POLICY, labelled_at_last_step=0, elapsed_s=601
    )
    assert late is not None and late.action == canary.ROLLBACK and "within" in late.reason


def test_guard_rails_need_no_labels():
    broken = canary.Side()
    for i in range(40):
        broken.add_prediction(float("nan") if i % 2 else 1.0, 2.0)
    v = canary.judge(broken, side(0.9, 40, 1), POLICY, labelled_at_last_step=0, elapsed_s=1)
    assert v is not None and v.action == canary.ROLLBACK and "error rate" in v.reason
    slow = side(0.9, 200, 5, latency=50.0)
    v = canary.judge(
        slow, side(0.9, 200, 6, latency=2.0), POLICY, labelled_at_last_step=0, elapsed_s=1
    )
    assert v is not None and v.action == canary.ROLLBACK and "latency" in v.reason


def test_a_p99_of_a_few_predictions_is_no_latency_evidence():
    # 40 candidate predictions, all slow: their "p99" is the slowest call.
    v = canary.judge(
        side(0.9, 40, 5, latency=50.0),
        side(0.9, 400, 6, latency=2.0),
        POLICY,
        labelled_at_last_step=0,
        elapsed_s=1,
    )
    assert v is None or "latency" not in v.reason


def _monitor(clock: list[float], **rollout) -> Monitor:
    spec = Spec(models=(ModelSpec(name="m", feature_view="v", rollout=RolloutPolicy(**rollout)),))
    m = Monitor(MemoryStore(), Policies(spec), clock=lambda: clock[0])
    m.on_alias("m", "champion", 1, 0, event_id="a1")
    return m


def _traffic(m: Monitor, clock: list[float], n: int, acc: dict[int, float], share: float) -> list:
    rng = random.Random(7)
    out = []
    for i in range(n):
        clock[0] += 0.01
        version = 2 if rng.random() < share else 1
        y = rng.random() < 0.5
        right = rng.random() < acc[version]
        pred = float(y if right else not y)
        role = "candidate" if version == 2 else "champion"
        out += m.on_prediction(Prediction(f"r{i}", "m", version, role, pred, at=clock[0]))
        out += m.on_label(Label(f"r{i}", float(y), at=clock[0]))
    return out


def test_a_rollout_steps_up_then_promotes_and_completes_on_the_alias_change():
    clock = [0.0]
    m = _monitor(clock, steps=(0.5, 0.8, 1.0), min_labelled_per_side=100)
    started = m.on_alias("m", "candidate", 2, 0, event_id="alias-2", correlation_id="drift-1")
    assert [(c.kind, c.share, c.correlation_id) for c in started] == [("started", 0.5, "drift-1")]
    facts = _traffic(m, clock, 3000, {1: 0.75, 2: 0.95}, share=0.5)
    kinds = [(c.kind, c.verdict) for c in facts]
    assert kinds == [("stepped", ""), ("decided", "promote")]
    assert facts[0].share == 0.8
    assert facts[1].evidence.candidate_value > facts[1].evidence.champion_value
    assert all(c.correlation_id == "drift-1" for c in facts)
    # Whatever order the registry writes the aliases in, the rollout completes
    # when the candidate is champion.
    assert m.on_alias("m", "candidate", 0, 2, event_id="alias-del") == []
    done = m.on_alias("m", "champion", 2, 1, event_id="alias-3")
    assert [(c.kind, c.verdict, c.caused_by) for c in done] == [("completed", "promote", "alias-3")]
    assert m.rollout("m").phase == "completed"


def test_a_silent_candidate_is_rolled_back_at_the_timeout():
    clock = [0.0]
    m = _monitor(clock, timeout_s=30)
    m.on_alias("m", "candidate", 2, 0, event_id="alias-2")
    clock[0] = 29.0
    assert m.tick() == []
    clock[0] = 31.0
    [decided] = m.tick()
    assert (decided.kind, decided.verdict) == ("decided", "rollback")
    # The registry deletes the candidate alias: the rollout is complete.
    [done] = m.on_alias("m", "candidate", 0, 2, event_id="alias-del")
    assert (done.kind, done.verdict) == ("completed", "rollback")


def test_a_redelivered_candidate_alias_does_not_start_a_second_rollout():
    clock = [0.0]
    m = _monitor(clock)
    first = m.on_alias("m", "candidate", 2, 0, event_id="alias-2")
    again = m.on_alias("m", "candidate", 2, 0, event_id="alias-2")
    assert len(first) == 1 and again == []


def test_a_large_latency_ratio_of_tiny_latencies_is_not_a_rollback():
    # 0.1 ms against 0.8 ms is 8x, but no client would notice 0.7 ms.
    v = canary.judge(
        side(0.9, 40, 5, latency=0.8),
        side(0.9, 40, 6, latency=0.1),
        POLICY,
        labelled_at_last_step=0,
        elapsed_s=1,
    )
    assert v is None or "latency" not in v.reason


def _shifted(n: int, positive_share: float, accuracy: float) -> canary.Side:
    """A side predicting class 1 for ``positive_share`` of ``n`` records, right on
    ``accuracy`` of them."""
    s = canary.Side()
    for i in range(n):
        s.add_prediction(float(i < round(n * positive_share)), 2.0)
        s.add_score(float(i < round(n * accuracy)))
    return s


def test_a_correct_candidate_after_a_prior_shift_is_not_rolled_back_on_its_predictions():
    # STAGGER concept 0 -> 2: the champion still predicts few positives (and is
    # right 21 % of the time), the retrained candidate 67 % (and is right).
    champ = _shifted(60, 0.05, 0.21)
    cand = _shifted(60, 0.67, 1.0)
    assert canary.prediction_psi(cand, champ) > POLICY.max_prediction_psi
    # Before any label evidence the PSI guard rail holds: no verdict.
    v = canary.judge(cand, champ, POLICY, labelled_at_last_step=0, elapsed_s=3)
    assert v is None
    # With labels the candidate steps up, whatever its predictions' PSI.
    champ, cand = _shifted(300, 0.05, 0.21), _shifted(300, 0.67, 1.0)
    v = canary.judge(cand, champ, POLICY, labelled_at_last_step=0, elapsed_s=20)
    assert v is not None and v.action == canary.STEP, v
    assert v.evidence.prediction_psi > POLICY.max_prediction_psi


def test_predictions_unlike_the_champions_without_label_support_are_rolled_back():
    # Labels neither show it worse nor not worse; its predictions are far off.
    champ = _shifted(250, 0.5, 0.55)
    cand = _shifted(250, 0.0, 0.52)  # always class 0
    v = canary.judge(cand, champ, POLICY, labelled_at_last_step=0, elapsed_s=20)
    assert v is not None and v.action == canary.ROLLBACK and "PSI" in v.reason, v


def test_psi_noise_shrinks_with_the_sample_size():
    small, large = _shifted(30, 0.5, 1), _shifted(3000, 0.5, 1)
    assert canary.psi_noise(small, small) > 10 * canary.psi_noise(large, large) > 0
