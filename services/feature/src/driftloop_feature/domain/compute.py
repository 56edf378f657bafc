"""Computing one view's vectors, point-in-time correct.

Per entity the state keeps the recent history sorted by event time. A record's
vector is computed only from that entity's records with event time ≤ its own
(and, for equal times, those that arrived before it). A record older than the
entity's newest event time minus ``allowed_lateness_s`` is rejected as late:
its window has been emitted already, and folding it in would rewrite history.
The histories are bounded by a time to live and a count (see
:mod:`driftloop_feature.domain.entities`).

Standard scaling uses running mean and variance (river ``stats.Var``) over
every record this state has applied, in arrival order. The state is per Kafka
partition (see :mod:`driftloop_feature.domain.partition`), so the statistics
are a deterministic function of the partition's log: a replay yields the same
numbers, and replicas never share mutable statistics.
"""

from __future__ import annotations

import bisect
import copy
import math
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from river import stats

from driftloop.platform.spec import FeatureSpec
from driftloop_feature.domain.entities import EntityHistory, EntityTable
from driftloop_feature.domain.model import (
    CannotCompute,
    FieldValue,
    Record,
    Rejection,
    RejectKind,
    Vector,
    rejection_id,
    vector_id,
)
from driftloop_feature.domain.views import CompiledView

#: The value of ``time_since_previous`` for an entity's first event.
NO_PREVIOUS = -1.0

_AGGS = {
    "count": stats.Count,
    "sum": stats.Sum,
    "mean": stats.Mean,
    "min": stats.Min,
    "max": stats.Max,
    "std": lambda: stats.Var(ddof=0),
}


@dataclass(frozen=True)
class ViewSummary:
    """A view's running values but its entities."""

    scalers: dict[str, stats.Var]
    seq: int
    late: int
    watermark: float


@dataclass
class ViewState:
    """The running state of one view over one partition's records."""

    view: CompiledView
    scalers: dict[str, stats.Var] = field(default_factory=dict)
    entities: EntityTable = field(default_factory=EntityTable)
    seq: int = 0
    late: int = 0

    def summary(self) -> ViewSummary:
        """A copy of everything but the entities (small: saved whole every time)."""
        return ViewSummary(
            copy.deepcopy(self.scalers), self.seq, self.late, self.entities.watermark
        )

    @classmethod
    def restore(
        cls,
        view: CompiledView,
        summary: ViewSummary,
        histories: Iterable[tuple[str, EntityHistory]],
    ) -> ViewState:
        """The state a summary and the saved histories (least recently updated
        first) describe."""
        table = EntityTable.restore(summary.watermark, histories)
        return cls(view, summary.scalers, table, summary.seq, summary.late)

    def apply(self, record: Record) -> Vector | Rejection:
        """Fold the record in and return its vector, or why it cannot be computed
        (then the state is unchanged)."""
        try:
            return self._apply(record)
        except CannotCompute as exc:
            if exc.kind is RejectKind.LATE:
                self.late += 1
            return Rejection(
                event_id=rejection_id(record.record_id, self.view.name, self.view.version),
                record=record,
                view=self.view.name,
                view_version=self.view.version,
                kind=exc.kind,
                field=exc.field,
                message=f"view {self.view.name} v{self.view.version}: {exc.message}",
            )

    def _apply(self, record: Record) -> Vector:
        view = self.view
        t = record.event_time
        ttl = view.spec.entity_ttl_s
        history = self.entities.live(record.entity_id, t, ttl) or EntityHistory()
        low = history.max_time - view.spec.allowed_lateness_s
        if t < low:
            raise CannotCompute(
                RejectKind.LATE,
                view.stream.event_time_field or "event_time",
                f"event time is {history.max_time - t:.3f}s behind the entity's newest, "
                f"beyond allowed_lateness_s={view.spec.allowed_lateness_s}",
            )
        rolling_values = tuple(_number(record, f) for f in view.rolling_fields)
        event = (t, self.seq, rolling_values)
        pos = bisect.bisect_right(history.events, (t, self.seq))
        window = [*history.events[:pos], event]
        values: list[float] = []
        learned: list[tuple[stats.Var, float]] = []
        try:
            for feat in view.spec.features:
                kind = feat.kind
                if kind == "passthrough":
                    values.append(_number(record, feat.field or ""))
                elif kind == "standard_scale":
                    x = _number(record, feat.field or "")
                    var = self.scalers.get(feat.name) or stats.Var(ddof=0)
                    self.scalers[feat.name] = var
                    var.update(x)
                    learned.append((var, x))
                    sd = math.sqrt(var.get())
                    values.append((x - var.mean.get()) / sd if sd > 0 else 0.0)
                elif kind == "one_hot":
                    raw = _text(record, feat.field or "")
                    values.extend(1.0 if raw == c else 0.0 for c in view.categories[feat.name])
                elif kind == "hashed":
                    width = feat.width or 1
                    bucket = zlib.crc32(_text(record, feat.field or "").encode()) % width
                    values.extend(1.0 if i == bucket else 0.0 for i in range(width))
                elif kind == "rolling":
                    values.append(_rolling(feat, window, view.rolling_fields.index(feat.field)))
                elif kind == "time_since_previous":
                    values.append(t - window[-2][0] if len(window) > 1 else NO_PREVIOUS)
                elif kind == "ratio":
                    den = _number(record, feat.denominator or "")
                    if den == 0:
                        raise CannotCompute(
                            RejectKind.NOT_FINITE, feat.denominator or "", "denominator is zero"
                        )
                    values.append(_number(record, feat.numerator or "") / den)
            bad = next(
                (n for n, v in zip(view.names, values, strict=True) if not math.isfinite(v)), None
            )
            if bad is not None:
                raise CannotCompute(RejectKind.NOT_FINITE, bad, f"value {bad!r} is not finite")
        except CannotCompute:
            for var, x in learned:
                var.revert(x)
            raise
        history.events.insert(pos, event)
        history.max_time = max(history.max_time, t)
        history.updated = self.seq
        self.seq += 1
        self._prune(history)
        self.entities.put(record.entity_id, history, ttl, view.max_entities)
        return Vector(
            event_id=vector_id(record.record_id, view.name, view.version),
            record_id=record.record_id,
            stream=record.stream,
            entity_id=record.entity_id,
            event_time_ns=record.event_time_ns,
            view=view.name,
            view_version=view.version,
            names=view.names,
            values=tuple(values),
        )

    def _prune(self, history: EntityHistory) -> None:
        # Keep what a record still acceptable (time ≥ newest - lateness) can
        # need: the last N events before that bound and every event within
        # the longest time window of it.
        low = history.max_time - self.view.spec.allowed_lateness_s
        before = bisect.bisect_left(history.events, (low, -1))
        drop = max(0, before - self.view.max_window_events)
        horizon = low - self.view.max_window_seconds
        while drop > 0 and history.events[drop - 1][0] > horizon:
            drop -= 1
        if drop:
            del history.events[:drop]


def _rolling(
    feat: FeatureSpec, window: list[tuple[float, int, tuple[float, ...]]], index: int
) -> float:
    # FeatureSpec's validator guarantees a rolling feature has `agg` and one window.
    assert feat.agg is not None
    if feat.window_events is not None:
        selected = window[-feat.window_events :]
    else:
        assert feat.window_seconds is not None
        start = window[-1][0] - feat.window_seconds
        selected = window[bisect.bisect_right(window, (start, math.inf)) :]
    agg = _AGGS[feat.agg]()
    for event in selected:
        agg.update(event[2][index])
    result = agg.get()
    assert result is not None  # `selected` holds at least the latest event
    return math.sqrt(result) if feat.agg == "std" else float(result)


def _value(record: Record, name: str) -> FieldValue:
    value = record.fields.get(name)
    if value is None:
        raise CannotCompute(RejectKind.MISSING_FIELD, name, f"field {name!r} is missing")
    return value


def _number(record: Record, name: str) -> float:
    value = _value(record, name)
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bool | int | float):
        x = float(value)
        if not math.isfinite(x):
            raise CannotCompute(RejectKind.NOT_FINITE, name, f"field {name!r} is {x}")
        return x
    raise CannotCompute(
        RejectKind.WRONG_TYPE, name, f"field {name!r} is {type(value).__name__}, not a number"
    )


def _text(record: Record, name: str) -> str:
    value = _value(record, name)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    raise CannotCompute(
        RejectKind.WRONG_TYPE, name, f"field {name!r} is {type(value).__name__}, not a category"
    )
