"""Labelled rows, the selection of a training window, the time-ordered
holdout split, and the content hash that identifies a snapshot."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from driftloop_training.domain.runs import Window


@dataclass(frozen=True)
class LabelledRow:
    """A feature vector as computed for its record, joined to the record's label."""

    record_id: str
    event_time: datetime
    values: tuple[float, ...]
    label: float | str
    #: How many earlier vectors of its entity the store holds, and how long
    #: after the first of them it came (per-entity aggregates warm up).
    entity_seq: int = 0
    entity_age_s: float = 0.0


@dataclass(frozen=True)
class Frame:
    """The data a trainer sees: rows ordered by event time, train part first."""

    record_ids: list[str]
    event_times: list[datetime]
    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    holdout_rows: int
    #: Per row, as in :class:`LabelledRow` (not part of a saved snapshot).
    entity_seq: np.ndarray | None = None
    entity_age_s: np.ndarray | None = None

    @property
    def rows(self) -> int:
        return len(self.record_ids)

    @property
    def train(self) -> tuple[np.ndarray, np.ndarray]:
        n = self.rows - self.holdout_rows
        return self.X[:n], self.y[:n]

    @property
    def holdout(self) -> tuple[np.ndarray, np.ndarray]:
        n = self.rows - self.holdout_rows
        return self.X[n:], self.y[n:]

    def content_sha256(self) -> str:
        """Hash of ids, values and labels: equal data, equal hash."""
        h = hashlib.sha256()
        for rid in self.record_ids:
            h.update(rid.encode() + b"\0")
        h.update(np.ascontiguousarray(self.X, dtype=np.float64).tobytes())
        h.update(np.asarray(self.y).astype(str).astype("U").tobytes())
        h.update(str(self.holdout_rows).encode())
        return h.hexdigest()


class NotEnoughData(Exception):
    """Fewer labelled rows than the window's minimum."""


def select(rows: list[LabelledRow], window: Window) -> list[LabelledRow]:
    """The rows of ``window`` from ``rows`` (ordered by event time).

    ``since_drift`` keeps rows at or after ``window.start`` (training on
    pre-drift data would relearn the old concept); ``last_n`` the newest N;
    ``all`` everything. Raises :class:`NotEnoughData` below ``min_rows``.
    """
    chosen = rows
    if window.start is not None:
        chosen = [r for r in chosen if r.event_time >= window.start]
    if window.end is not None:
        chosen = [r for r in chosen if r.event_time <= window.end]
    if window.policy == "last_n" and window.last_n > 0:
        chosen = chosen[-window.last_n :]
    if len(chosen) < window.min_rows:
        raise NotEnoughData(f"{len(chosen)} labelled rows in the window, need {window.min_rows}")
    return chosen


def to_frame(
    rows: list[LabelledRow], feature_names: list[str], holdout_fraction: float, task: str
) -> Frame:
    """Arrays for training; the holdout is the most recent slice by time,
    never a random split across time."""
    rows = sorted(rows, key=lambda r: (r.event_time, r.record_id))
    widths = {len(r.values) for r in rows}
    if widths != {len(feature_names)}:
        raise ValueError(f"rows have widths {sorted(widths)}, the view has {len(feature_names)}")
    X = np.asarray([r.values for r in rows], dtype=np.float32)
    if task == "classification":
        y = encode_labels([r.label for r in rows])
    else:
        y = np.asarray([float(r.label) for r in rows], dtype=np.float64)
    holdout = max(1, round(len(rows) * holdout_fraction))
    return Frame(
        record_ids=[r.record_id for r in rows],
        event_times=[r.event_time for r in rows],
        X=X,
        y=y,
        feature_names=list(feature_names),
        holdout_rows=min(holdout, len(rows) - 1),
        entity_seq=np.asarray([r.entity_seq for r in rows], dtype=np.int64),
        entity_age_s=np.asarray([r.entity_age_s for r in rows], dtype=np.float64),
    )


def encode_labels(labels: list[float | str]) -> np.ndarray:
    """Class labels as int64: numbers as they are (0/1, 0..k), strings by
    sorted position, so the exported model's ``label`` output is INT64."""
    if all(isinstance(v, float | int) for v in labels):
        return np.asarray([int(v) for v in labels], dtype=np.int64)
    classes = sorted({str(v) for v in labels})
    return np.asarray([classes.index(str(v)) for v in labels], dtype=np.int64)
