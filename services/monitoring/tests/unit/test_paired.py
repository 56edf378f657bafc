"""Paired evidence: when champion and candidate scored the same labelled
records (shadow), the verdict comes from the paired test (McNemar for
accuracy), which sees a small real difference that two independent samples
cannot."""

from __future__ import annotations

from driftloop.platform.spec import ModelSpec, RolloutPolicy, Spec
from driftloop_monitoring.domain import canary
from driftloop_monitoring.domain.model import Label, Prediction
from driftloop_monitoring.domain.paired import CANDIDATE_SIDE, CHAMPION_SIDE, Paired
from driftloop_monitoring.service.monitor import Monitor
from driftloop_monitoring.service.policies import Policies
from driftloop_monitoring.service.ports import MemoryStore

POLICY = canary.Policy(steps=(1.0,), min_labelled=200, margin=0.0, mode="shadow")


def _sides(n: int, champion_right: int, candidate_extra: int):
    """The candidate is right wherever the champion is, and on ``candidate_extra`` more."""
    champ, cand, paired = canary.Side(), canary.Side(), Paired()
    for i in range(n):
        a = float(i < champion_right)
        b = float(i < champion_right + candidate_extra)
        for side, score, key in ((champ, a, CHAMPION_SIDE), (cand, b, CANDIDATE_SIDE)):
            side.add_prediction(1.0, 2.0)
            side.add_score(score)
            paired.add(f"r{i}", key, score)
    return champ, cand, paired


def test_a_small_real_gain_is_seen_only_by_the_paired_test():
    champ, cand, paired = _sides(400, 320, 8)  # 0.80 vs 0.82 on the same records
    unpaired = canary.judge(cand, champ, POLICY, labelled_at_last_step=0, elapsed_s=10)
    assert unpaired is None  # two independent samples of 400 cannot tell
    v = canary.judge(cand, champ, POLICY, labelled_at_last_step=0, elapsed_s=10, paired=paired)
    assert v is not None and v.action == canary.STEP and "paired" in v.reason, v
    assert paired.pairs == 400 and paired.discordant == 8


def test_a_worse_candidate_is_rolled_back_on_paired_evidence():
    champ, cand, paired = _sides(400, 320, -12)
    v = canary.judge(cand, champ, POLICY, labelled_at_last_step=0, elapsed_s=10, paired=paired)
    assert v is not None and v.action == canary.ROLLBACK and "paired" in v.reason, v


def test_identical_models_are_neither_passed_nor_rolled_back_without_a_margin():
    champ, cand, paired = _sides(400, 320, 0)
    assert paired.test(0.0)[1:] == (1.0, 1.0)
    v = canary.judge(cand, champ, POLICY, labelled_at_last_step=0, elapsed_s=10, paired=paired)
    assert v is None


def test_a_shadow_rollout_is_promoted_on_paired_evidence_from_the_stream():
    clock = [0.0]
    spec = Spec(
        models=(
            ModelSpec(
                name="m",
                feature_view="v",
                rollout=RolloutPolicy(mode="shadow", min_labelled_per_side=100, margin=0.0),
            ),
        )
    )
    m = Monitor(MemoryStore(), Policies(spec), clock=lambda: clock[0])
    m.on_alias("m", "champion", 1, 0, event_id="a1")
    [started] = m.on_alias("m", "candidate", 2, 0, event_id="a2")
    assert started.mode == "shadow"
    facts = []
    for i in range(600):
        clock[0] += 0.01
        y = i % 2
        champion_says = y if i % 5 else 1 - y  # right on 80 %
        candidate_says = y if i % 5 or i % 15 == 0 else 1 - y  # right on 80 % and a few more
        for version, role, said in ((1, "champion", champion_says), (2, "shadow", candidate_says)):
            facts += m.on_prediction(Prediction(f"r{i}", "m", version, role, float(said)))
        facts += m.on_label(Label(f"r{i}", float(y), at=clock[0]))
    decided = [f for f in facts if f.kind == "decided"]
    assert [(d.verdict, "paired" in d.reason) for d in decided] == [("promote", True)], facts
    assert m.rollout("m").paired.pairs >= 100
