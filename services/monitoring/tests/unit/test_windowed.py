"""Windowed tests against a reference histogram."""

from __future__ import annotations

import random

from driftloop_monitoring.domain.model import Histogram
from driftloop_monitoring.domain.windowed import compare, compare_all

CATS = Histogram("colour", (500, 300, 200), categories=("red", "green", "blue"))
NUM = Histogram("x", (250, 250, 250, 250), edges=(0.0, 1.0, 2.0, 3.0, 4.0))


def draw(rng: random.Random, weights: tuple[float, ...], n: int) -> list[str]:
    return rng.choices(["red", "green", "blue"], weights=weights, k=n)


def test_chi_squared_flags_a_moved_categorical_and_not_a_stable_one():
    rng = random.Random(3)
    same = compare(CATS, draw(rng, (5, 3, 2), 1000), psi_threshold=0.2, alpha=0.01)
    moved = compare(CATS, draw(rng, (1, 3, 6), 1000), psi_threshold=0.2, alpha=0.01)
    assert (same.test, same.drifted) == ("chi2", False)
    assert moved.drifted and moved.p_value < 1e-6 and moved.psi > 0.2


def test_unknown_categories_count_as_drift_evidence():
    r = compare(CATS, ["purple"] * 600 + ["red"] * 400, psi_threshold=0.2, alpha=0.01)
    assert r.drifted


def test_ks_flags_a_shifted_numeric_and_bonferroni_keeps_many_features_quiet():
    rng = random.Random(5)
    shifted = compare(NUM, [rng.uniform(1, 5) for _ in range(1000)], psi_threshold=0.2, alpha=0.01)
    assert shifted.test == "ks" and shifted.drifted
    refs = [Histogram(f"f{i}", NUM.counts, NUM.edges) for i in range(50)]
    alarms = 0
    for _ in range(20):
        window = {r.name: [rng.uniform(0, 4) for _ in range(500)] for r in refs}
        alarms += sum(x.drifted for x in compare_all(refs, window, psi_threshold=0.2, alpha=0.01))
    assert alarms == 0
