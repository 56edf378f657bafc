"""The label join: each prediction meets its label by record id, whichever
comes first, within a bounded wait.

A label is kept for the whole wait even after it matched, because several
versions (champion, candidate, shadow) may predict the same record at
different times. A prediction is counted once per (record id, model, version):
a redelivered prediction that already joined is ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from driftloop_monitoring.domain.model import Joined, Label, Prediction

Key = tuple[str, str, int]


@dataclass
class JoinCounts:
    joined: int = 0
    unmatched_predictions: int = 0
    unmatched_labels: int = 0
    duplicates: int = 0


@dataclass
class JoinBuffer:
    """What is waiting, in memory. A persistent store subclasses it and writes
    each change through (see ``adapters.sqlite_store``)."""

    # key -> (prediction, arrived_at)
    predictions: dict[Key, tuple[Prediction, float]] = field(default_factory=dict)
    # record id -> (label, arrived_at, matched)
    labels: dict[str, tuple[Label, float, bool]] = field(default_factory=dict)
    # keys that already joined -> when
    joined: dict[Key, float] = field(default_factory=dict)
    by_record: dict[str, set[Key]] = field(default_factory=dict)

    def put_prediction(self, p: Prediction, arrived: float) -> None:
        self.predictions[p.key] = (p, arrived)
        self.by_record.setdefault(p.record_id, set()).add(p.key)

    def pop_prediction(self, key: Key) -> Prediction:
        p, _ = self.predictions.pop(key)
        keys = self.by_record.get(key[0])
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self.by_record[key[0]]
        return p

    def put_label(self, label: Label, arrived: float, matched: bool) -> None:
        self.labels[label.record_id] = (label, arrived, matched)

    def drop_label(self, record_id: str) -> None:
        del self.labels[record_id]

    def mark_joined(self, key: Key, at: float) -> None:
        self.joined[key] = at

    def drop_joined(self, key: Key) -> None:
        del self.joined[key]


class LabelJoin:
    """Joins predictions to labels; ``wait_s(model)`` bounds the wait.

    >>> j = LabelJoin(lambda model: 10.0)
    >>> j.add_label(Label("r1", 1.0), now=0.0)
    []
    >>> p1 = Prediction("r1", "m", 1, "champion", 1.0)
    >>> [x.label.value for x in j.add_prediction(p1, now=2.0)]
    [1.0]
    >>> j.add_prediction(Prediction("r2", "m", 1, "champion", 0.0), now=3.0)
    []
    >>> [p.record_id for p in j.expire(now=20.0)], j.counts.unmatched_predictions
    (['r2'], 1)
    """

    def __init__(self, wait_s: Callable[[str], float], buffer: JoinBuffer | None = None) -> None:
        self.wait_s = wait_s
        self.buffer = buffer if buffer is not None else JoinBuffer()
        self.counts = JoinCounts()

    def add_prediction(self, p: Prediction, now: float) -> list[Joined]:
        b = self.buffer
        if p.key in b.joined or p.key in b.predictions:
            self.counts.duplicates += 1
            return []
        held = b.labels.get(p.record_id)
        if held is None:
            b.put_prediction(p, now)
            return []
        label, arrived, matched = held
        if not matched:
            b.put_label(label, arrived, True)
        b.mark_joined(p.key, now)
        self.counts.joined += 1
        return [Joined(p, label, max(0.0, label.at - p.at) if label.at and p.at else 0.0)]

    def add_label(self, label: Label, now: float) -> list[Joined]:
        b = self.buffer
        if label.record_id in b.labels:
            self.counts.duplicates += 1
            return []
        out: list[Joined] = []
        for key in sorted(b.by_record.get(label.record_id, ())):
            p = b.pop_prediction(key)
            b.mark_joined(key, now)
            lag = max(0.0, (label.at or now) - p.at) if p.at else 0.0
            out.append(Joined(p, label, lag))
        self.counts.joined += len(out)
        b.put_label(label, now, bool(out))
        return out

    def expire(self, now: float) -> list[Prediction]:
        """Drop what waited longer than its model's wait; return the predictions
        that never met a label (labels that never matched are only counted)."""
        b = self.buffer
        gone = [
            key
            for key, (p, arrived) in b.predictions.items()
            if now - arrived > self.wait_s(p.model)
        ]
        out = [b.pop_prediction(key) for key in gone]
        self.counts.unmatched_predictions += len(out)
        longest = self.max_wait()
        for rid, (_, arrived, matched) in list(b.labels.items()):
            if now - arrived > longest:
                b.drop_label(rid)
                if not matched:
                    self.counts.unmatched_labels += 1
        for key, at in list(b.joined.items()):
            if now - at > self.wait_s(key[1]):
                b.drop_joined(key)
        return out

    def max_wait(self) -> float:
        models = {k[1] for k in self.buffer.predictions} | {k[1] for k in self.buffer.joined}
        return max((self.wait_s(m) for m in models), default=self.wait_s(""))

    def pending(self) -> tuple[int, int]:
        """(waiting predictions, held labels)."""
        return len(self.buffer.predictions), len(self.buffer.labels)
