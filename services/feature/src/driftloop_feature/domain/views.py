"""Compiled feature views: what each feature reads and the names of the values
it produces.

A view's *width* is its number of values, not of features: a ``one_hot``
feature expands into one value per category (named ``<feature>=<category>``)
and a ``hashed`` feature into ``width`` buckets (named ``<feature>#<i>``).
Training, the registry and serving size models with :func:`view_width`.

>>> from driftloop.platform.spec import parse_spec
>>> spec = parse_spec('''
... streams:
...   - name: s
...     entity_field: e
...     fields:
...       - {name: e, type: string}
...       - {name: x, type: float}
...       - {name: c, type: categorical, categories: [a, b, c]}
... feature_views:
...   - name: v
...     stream: s
...     features:
...       - {name: x, kind: passthrough, field: x}
...       - {name: c, kind: one_hot, field: c}
... ''')
>>> value_names(spec.feature_views[0], spec.streams[0])
('x', 'c=a', 'c=b', 'c=c')
>>> view_width(spec.feature_views[0], spec.streams[0])
4
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from driftloop.platform.spec import FeatureSpec, FeatureViewSpec, Spec, StreamSpec


class ViewDefinitionError(ValueError):
    """A view cannot be compiled (for example a one_hot without categories)."""


@dataclass(frozen=True)
class CompiledView:
    """A feature view ready to compute: its spec, its stream and its value names."""

    spec: FeatureViewSpec
    stream: StreamSpec
    names: tuple[str, ...]
    categories: dict[str, tuple[str, ...]]
    rolling_fields: tuple[str, ...]
    max_window_events: int
    max_window_seconds: float
    #: Most entities whose state one partition keeps for this view (0: no
    #: bound). A service setting, not part of the definition or fingerprint.
    max_entities: int = 0

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def version(self) -> int:
        return self.spec.version

    @property
    def width(self) -> int:
        return len(self.names)

    @property
    def fingerprint(self) -> str:
        """Changes whenever the definition changes (keys checkpointed state)."""
        text = json.dumps(self.spec.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def categories_of(feature: FeatureSpec, stream: StreamSpec) -> tuple[str, ...]:
    """The categories a one_hot feature encodes: its own, else its field's."""
    if feature.categories:
        return feature.categories
    field = stream.field(feature.field or "")
    if field is not None and field.categories:
        return field.categories
    raise ViewDefinitionError(
        f"feature {feature.name!r}: one_hot needs `categories` (field {feature.field!r} has none)"
    )


def feature_value_names(feature: FeatureSpec, stream: StreamSpec) -> tuple[str, ...]:
    """The names of the values one feature produces, in order."""
    if feature.kind == "one_hot":
        return tuple(f"{feature.name}={c}" for c in categories_of(feature, stream))
    if feature.kind == "hashed":
        return tuple(f"{feature.name}#{i}" for i in range(feature.width or 0))
    return (feature.name,)


def value_names(view: FeatureViewSpec, stream: StreamSpec) -> tuple[str, ...]:
    """Every value name of a view, in the view's declared order."""
    return tuple(n for f in view.features for n in feature_value_names(f, stream))


def view_width(view: FeatureViewSpec, stream: StreamSpec) -> int:
    """The number of values in a view's vectors (the model input width)."""
    return len(value_names(view, stream))


def compile_view(view: FeatureViewSpec, stream: StreamSpec, max_entities: int = 0) -> CompiledView:
    """Check a view against its stream and precompute what computing needs."""
    names = value_names(view, stream)
    if len(set(names)) != len(names):
        raise ViewDefinitionError(f"view {view.name!r}: value names are not unique")
    rolling = [f for f in view.features if f.kind == "rolling"]
    return CompiledView(
        spec=view,
        stream=stream,
        names=names,
        categories={f.name: categories_of(f, stream) for f in view.features if f.kind == "one_hot"},
        rolling_fields=tuple(dict.fromkeys(f.field or "" for f in rolling)),
        max_window_events=max((f.window_events or 0 for f in rolling), default=0),
        max_window_seconds=max((f.window_seconds or 0.0 for f in rolling), default=0.0),
        max_entities=max_entities,
    )


def compile_spec(spec: Spec, max_entities: int = 0) -> list[CompiledView]:
    """Every view of a spec, compiled (``max_entities``: see :class:`CompiledView`)."""
    out = []
    for view in spec.feature_views:
        stream = spec.stream(view.stream)
        if stream is None:
            raise ViewDefinitionError(f"view {view.name!r}: unknown stream {view.stream!r}")
        out.append(compile_view(view, stream, max_entities))
    return out
