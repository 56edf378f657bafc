"""Streaming change detectors: river's ADWIN, Page-Hinkley and KSWIN behind
one small interface that also counts positions and estimates where a
change began.

``update(x)`` returns a :class:`Change` when the detector fires. The detector
says *that* the stream changed; where it changed is estimated afterwards
from the recent values (:func:`change_point`). With ``increase_only`` (used
for losses) a change where the mean fell is ignored: a model getting better
is not concept drift.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

NAMES = ("adwin", "page_hinkley", "kswin")


@dataclass(frozen=True)
class Change:
    """A detected change: where it fired and where it probably began."""

    detector: str
    position: int  # 1-based count of values seen when it fired
    started_position: int  # estimated first value after the change
    before_mean: float
    after_mean: float

    @property
    def delay(self) -> int:
        return self.position - self.started_position


def make(name: str, params: dict[str, Any] | None = None) -> Any:
    """A river detector by name (``adwin``, ``page_hinkley``, ``kswin``)."""
    # river.drift imports river.datasets, scikit-learn and scipy.stats (~2 s of
    # CPU): loaded with the first model's detectors, not at the service's start.
    from river import drift

    params = dict(params or {})
    if name == "adwin":
        return drift.ADWIN(**params)
    if name == "page_hinkley":
        return drift.PageHinkley(**params)
    if name == "kswin":
        params.setdefault("seed", 7)
        return drift.KSWIN(**params)
    raise ValueError(f"unknown detector {name!r}; known: {', '.join(NAMES)}")


def change_point(values: np.ndarray, *, increase_only: bool = False) -> tuple[int, float, float]:
    """Where the mean of ``values`` most likely changed, with the means before
    and after: the split maximising the standardised CUSUM (the two-sample
    mean-shift statistic), so that a short segment after the change is found
    as well as a long one.

    >>> change_point(np.array([0.0] * 50 + [1.0] * 10))[0]
    50
    """
    if len(values) < 2:
        m = float(values.mean()) if len(values) else 0.0
        return 0, m, m
    n = len(values)
    ks = np.arange(1, n)
    c = np.cumsum(values - values.mean())[:-1] / np.sqrt(ks * (n - ks) / n)
    k = int(np.argmin(c) if increase_only else np.argmax(np.abs(c))) + 1
    return k, float(values[:k].mean()), float(values[k:].mean())


class StreamingDetector:
    """One river detector over one stream of numbers.

    >>> import random
    >>> rng = random.Random(1)
    >>> d = StreamingDetector("adwin")
    >>> changes = [d.update(float(rng.random() < (0.1 if i < 2000 else 0.6))) for i in range(4000)]
    >>> [(c.started_position > 1950, c.started_position < 2050) for c in changes if c]
    [(True, True)]
    """

    def __init__(
        self,
        name: str,
        params: dict[str, Any] | None = None,
        *,
        increase_only: bool = False,
        memory: int = 10_000,
    ) -> None:
        self.name = name
        self.params = dict(params or {})
        self.increase_only = increase_only
        self.detector = make(name, self.params)
        self.position = 0
        self._segment_start = 0  # position after the previous detection
        self._recent: deque[float] = deque(maxlen=memory)

    def update(self, x: float) -> Change | None:
        self.position += 1
        self._recent.append(x)
        self.detector.update(x)
        if not self.detector.drift_detected:
            return None
        seen = min(self.position - self._segment_start, len(self._recent))
        values = np.fromiter(self._recent, dtype=float)[-seen:]
        split, before, after = change_point(values, increase_only=self.increase_only)
        self._segment_start = self.position
        if self.increase_only and after <= before:
            return None
        return Change(self.name, self.position, self.position - seen + split + 1, before, after)
