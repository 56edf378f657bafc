"""Paired evidence: champion and candidate scored on the same labelled
records (a shadow rollout mirrors every request to the candidate).

Each record whose label joined to both sides gives one difference of the
per-record scores, candidate minus champion. The one-sided non-inferiority
test on the mean difference (a paired z-test) needs far fewer records than
comparing two independent samples, because both models get most records
equally right or wrong. For accuracy (0/1 scores) it is McNemar's test in
its Wald form: only the discordant records (one side right, the other
wrong) move it.

>>> p = Paired()
>>> for i in range(300):
...     p.add(f"r{i}", CHAMPION_SIDE, 1.0)
...     p.add(f"r{i}", CANDIDATE_SIDE, 1.0 if i % 10 else 0.0)  # 30 records worse
>>> p.pairs, p.discordant
(300, 30)
>>> z, p_ok, p_bad = p.test(margin=0.02)
>>> p_bad < 0.05 < p_ok
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

CHAMPION_SIDE, CANDIDATE_SIDE = 0, 1


@dataclass
class Paired:
    pairs: int = 0
    discordant: int = 0
    diff_sum: float = 0.0
    diff_sq: float = 0.0
    #: Record id → (side, score) of the first side joined, waiting for the other.
    waiting: dict[str, tuple[int, float]] = field(default_factory=dict)

    def add(self, record_id: str, side: int, score: float, *, keep: int = 2_000) -> None:
        other = self.waiting.pop(record_id, None)
        if other is None:
            if len(self.waiting) >= keep:
                # The oldest half-pair will not be completed any more: drop it.
                self.waiting.pop(next(iter(self.waiting)))
            self.waiting[record_id] = (side, score)
            return
        if other[0] == side:  # the same side twice (should not happen): keep the newer
            self.waiting[record_id] = (side, score)
            return
        d = score - other[1] if side == CANDIDATE_SIDE else other[1] - score
        self.pairs += 1
        self.discordant += d != 0
        self.diff_sum += d
        self.diff_sq += d * d

    def test(self, margin: float) -> tuple[float, float, float]:
        """z, and the p-values of "candidate not worse than champion − margin"
        and of "candidate worse than champion − margin" (higher score = better)."""
        if self.pairs < 2:
            return math.nan, 1.0, 1.0
        n = self.pairs
        mean = self.diff_sum / n
        var = max(0.0, (self.diff_sq - n * mean * mean) / (n - 1))
        diff = mean + margin
        se = math.sqrt(var / n)
        if se == 0:  # every pair differs by the same amount
            if diff == 0:
                return 0.0, 1.0, 1.0
            return (math.inf, 0.0, 1.0) if diff > 0 else (-math.inf, 1.0, 0.0)
        from scipy import stats  # a second of CPU to import: at the first test, not at start

        z = diff / se
        return z, float(stats.norm.sf(z)), float(stats.norm.cdf(z))
