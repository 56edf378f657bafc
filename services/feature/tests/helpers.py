"""Spec snippets and record builders the feature tests share."""

from __future__ import annotations

from driftloop.platform.spec import Spec, parse_spec
from driftloop_feature.domain.model import Record
from driftloop_feature.domain.views import CompiledView, compile_spec

SPEC = """
streams:
  - name: {stream}
    entity_field: e
    fields:
      - {{name: e, type: string}}
      - {{name: x, type: float}}
      - {{name: y, type: float, required: false}}
      - {{name: c, type: categorical, categories: [a, b, c]}}
feature_views:
  - name: {view}
    version: 1
    stream: {stream}
    allowed_lateness_s: {lateness}
    entity_ttl_s: {ttl}
    features:
      - {{name: x, kind: passthrough, field: x}}
      - {{name: xs, kind: standard_scale, field: x}}
      - {{name: c, kind: one_hot, field: c}}
      - {{name: ch, kind: hashed, field: c, width: 4}}
      - {{name: x_mean_3, kind: rolling, field: x, agg: mean, window_events: 3}}
      - {{name: x_sum_3, kind: rolling, field: x, agg: sum, window_events: 3}}
      - {{name: x_std_5, kind: rolling, field: x, agg: std, window_events: 5}}
      - {{name: x_count_10s, kind: rolling, field: x, agg: count, window_seconds: 10}}
      - {{name: x_min_10s, kind: rolling, field: x, agg: min, window_seconds: 10}}
      - {{name: x_max_10s, kind: rolling, field: x, agg: max, window_seconds: 10}}
      - {{name: gap, kind: time_since_previous}}
      - {{name: x_per_y, kind: ratio, numerator: x, denominator: y}}
"""


def spec(
    stream: str = "s", view: str = "v", lateness: float = 5.0, ttl: float | None = None
) -> Spec:
    text = SPEC.format(stream=stream, view=view, lateness=lateness, ttl=ttl or "null")
    return parse_spec(text)


def views(
    stream: str = "s",
    view: str = "v",
    lateness: float = 5.0,
    ttl: float | None = None,
    max_entities: int = 0,
) -> list[CompiledView]:
    return compile_spec(spec(stream, view, lateness, ttl), max_entities)


def record(
    rid: str,
    entity: str,
    t: float,
    x: float | None = 1.0,
    y: float | None = 2.0,
    c: str = "a",
    stream: str = "s",
) -> Record:
    fields = {"e": entity, "x": x, "y": y, "c": c}
    return Record(rid, stream, entity, round(t * 1e9), {k: v for k, v in fields.items()})
