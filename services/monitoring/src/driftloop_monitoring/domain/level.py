"""Is the champion measured worse than it was? A level check on its live loss.

River detectors fire on a *change* of the loss; once a change was detected
(or a rollout rolled back the candidate that should have fixed it), a
champion whose loss stays high offers nothing new to detect. This check
compares the champion's loss in each window of ``window`` labelled
predictions against its own baseline — its first window as champion — with
a one-sided Welch z-test of "worse than the baseline by more than
``margin``" (the rollout's margin: the gate a candidate must pass). Windows
do not overlap, and ``alpha`` is small, so a stationary champion does not
alarm however long it serves.

>>> import random
>>> rng = random.Random(3)
>>> w = LevelWatch(window=300, margin=0.02)
>>> steady = [w.update(float(rng.random() < 0.1)) for _ in range(30_000)]
>>> sum(b is not None for b in steady)
0
>>> worse = [w.update(float(rng.random() < 0.6)) for _ in range(600)]
>>> [round(b.current, 1) for b in worse if b]
[0.6, 0.6]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from driftloop_monitoring.domain.canary import Side

#: Per window: with one test every few seconds, a larger alpha would add up
#: to false alarms (and retrains) over hours of a stationary stream.
ALPHA = 1e-4


@dataclass(frozen=True)
class Below:
    """A window whose mean loss is significantly above the baseline's plus the margin."""

    baseline: float
    current: float
    samples: int
    p_value: float


class LevelWatch:
    def __init__(self, window: int, margin: float, alpha: float = ALPHA) -> None:
        self.window = window
        self.margin = margin
        self.alpha = alpha
        self.baseline = Side()
        self.current = Side()

    def update(self, loss: float) -> Below | None:
        """Add one loss; at the end of a window, the verdict on it."""
        if self.baseline.labelled < self.window:
            self.baseline.add_score(loss)
            return None
        self.current.add_score(loss)
        if self.current.labelled < self.window:
            return None
        cur, base, self.current = self.current, self.baseline, Side()
        se = math.sqrt(cur.var / cur.labelled + base.var / base.labelled)
        diff = cur.mean - base.mean - self.margin
        if diff <= 0:
            return None
        from scipy import stats  # a second of CPU to import: at the first window, not at start

        p = float(stats.norm.sf(diff / se)) if se > 0 else 0.0
        return Below(base.mean, cur.mean, cur.labelled, p) if p < self.alpha else None
