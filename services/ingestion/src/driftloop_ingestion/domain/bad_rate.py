"""The per-stream bad-record rate: the share of rejected records among a
stream's last N, and when it is high enough to tell someone."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

from driftloop_ingestion.domain.records import BadRateAlert, Reason


@dataclass
class _Window:
    outcomes: deque[int]
    bad: int = 0
    by_reason: Counter[int] = field(default_factory=Counter)
    last_alert: float = float("-inf")


class BadRateWatch:
    """Sliding window over each stream's last ``window`` records (0 = accepted,
    else the reject reason). An alert fires when at least ``min_records`` were
    seen and the rejected share exceeds ``threshold``, then at most once per
    ``cooldown_s`` per stream while it stays high.

    >>> w = BadRateWatch(threshold=0.5, window=4, min_records=4, cooldown_s=60)
    >>> w.observe("s", [0, 1, 1, 1], now=0).rate
    0.75
    >>> w.observe("s", [1], now=1) is None  # cooling down
    True
    """

    def __init__(self, threshold: float, window: int, min_records: int, cooldown_s: float) -> None:
        self.threshold = threshold
        self.window = window
        self.min_records = min(min_records, window)
        self.cooldown_s = cooldown_s
        self._streams: dict[str, _Window] = {}

    def observe(self, stream: str, outcomes: list[int], now: float) -> BadRateAlert | None:
        """Add a batch of outcomes of ``stream``; return an alert if one is due."""
        w = self._streams.get(stream)
        if w is None:
            w = self._streams[stream] = _Window(deque(maxlen=self.window))
        q = w.outcomes
        for outcome in outcomes:
            if len(q) == self.window:
                old = q[0]
                if old:
                    w.bad -= 1
                    w.by_reason[old] -= 1
            q.append(outcome)
            if outcome:
                w.bad += 1
                w.by_reason[outcome] += 1
        n = len(q)
        if n < self.min_records or w.bad / n <= self.threshold:
            return None
        if now - w.last_alert < self.cooldown_s:
            return None
        w.last_alert = now
        return BadRateAlert(
            stream=stream,
            rate=w.bad / n,
            threshold=self.threshold,
            window_records=n,
            window_rejected=w.bad,
            rejected_by_reason={Reason(r).label: c for r, c in w.by_reason.items() if c},
        )
