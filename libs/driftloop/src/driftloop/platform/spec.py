"""The declarative spec: one YAML file that declares streams (schemas),
feature views and models (trainer, drift policy, rollout policy).

Every service reads the same file; :func:`load_spec` validates it and, when
it is wrong, raises :class:`SpecError` pointing at each error by path and
line (``streams[0].fields[2].type (line 14): Input should be ...``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


FieldKind = Literal["float", "int", "bool", "string", "categorical", "timestamp"]


class FieldSpec(_Strict):
    """One field of a stream's records."""

    name: str = Field(min_length=1)
    type: FieldKind
    required: bool = True
    min: float | None = None
    max: float | None = None
    max_length: int | None = Field(None, ge=1)
    categories: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> FieldSpec:
        if self.type == "categorical" and not self.categories:
            raise ValueError("a categorical field needs its categories")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        return self


class LabelSpec(_Strict):
    """Type and constraints of a stream's ground-truth labels."""

    type: Literal["float", "int", "bool", "categorical"]
    min: float | None = None
    max: float | None = None
    categories: tuple[str, ...] = ()


class StreamSpec(_Strict):
    """A stream of records from producer apps, with its schema."""

    name: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_\-]*$")
    version: int = Field(1, ge=1)
    id_field: str = "id"
    entity_field: str
    event_time_field: str | None = None
    fields: tuple[FieldSpec, ...] = Field(min_length=1)
    label: LabelSpec | None = None

    @model_validator(mode="after")
    def _check(self) -> StreamSpec:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError("field names must be unique")
        if self.entity_field not in names:
            raise ValueError(f"entity_field {self.entity_field!r} is not a field")
        if self.event_time_field and self.event_time_field not in names:
            raise ValueError(f"event_time_field {self.event_time_field!r} is not a field")
        return self

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


FeatureKind = Literal[
    "passthrough",
    "standard_scale",
    "one_hot",
    "hashed",
    "rolling",
    "time_since_previous",
    "ratio",
]


class FeatureSpec(_Strict):
    """One feature of a view, computed from the stream's fields."""

    name: str = Field(min_length=1)
    kind: FeatureKind
    field: str | None = None
    # rolling: aggregate over the entity's last `window_events` events or
    # `window_seconds` of event time.
    agg: Literal["count", "sum", "mean", "min", "max", "std"] | None = None
    window_events: int | None = Field(None, ge=1)
    window_seconds: float | None = Field(None, gt=0)
    # one_hot: the categories (default: the field's); hashed: the width.
    categories: tuple[str, ...] = ()
    width: int | None = Field(None, ge=1)
    numerator: str | None = None
    denominator: str | None = None

    @model_validator(mode="after")
    def _check(self) -> FeatureSpec:
        needs_field = self.kind not in ("time_since_previous", "ratio")
        if needs_field and not self.field:
            raise ValueError(f"a {self.kind} feature needs `field`")
        if self.kind == "rolling":
            if self.agg is None:
                raise ValueError("a rolling feature needs `agg`")
            if (self.window_events is None) == (self.window_seconds is None):
                raise ValueError("a rolling feature needs one of window_events, window_seconds")
        if self.kind == "hashed" and not self.width:
            raise ValueError("a hashed feature needs `width`")
        if self.kind == "ratio" and not (self.numerator and self.denominator):
            raise ValueError("a ratio feature needs `numerator` and `denominator`")
        return self


class FeatureViewSpec(_Strict):
    """A versioned set of features computed per entity from one stream."""

    name: str = Field(min_length=1)
    version: int = Field(1, ge=1)
    stream: str
    features: tuple[FeatureSpec, ...] = Field(min_length=1)
    allowed_lateness_s: float = Field(
        60.0, ge=0, description="Out-of-order records within this are placed correctly."
    )
    entity_ttl_s: float | None = Field(
        None,
        gt=0,
        description="Forget an entity's state once the view's newest event time is this far "
        "past the entity's newest event (event time, so a replay forgets the same entities); "
        "a returning entity starts from empty state. None: kept until the service's "
        "max_entities bound evicts it.",
    )


class TrainerSpec(_Strict):
    """What trains the model: a built-in scikit-learn trainer or a callable."""

    builtin: (
        Literal["logistic_regression", "hist_gradient_boosting", "ridge", "gradient_boosting"]
        | None
    ) = "logistic_regression"
    callable: str | None = Field(None, pattern=r"^[\w.]+:[\w.]+$")
    params: dict[str, Any] = Field(default_factory=dict)
    seed: int = 0
    timeout_s: float = Field(300.0, gt=0)
    memory_mb: int = Field(2048, ge=64)


class TrainingPolicy(_Strict):
    """When and on what data to train, and the gate a new model must pass."""

    min_rows: int = Field(500, ge=10)
    holdout_fraction: float = Field(0.2, gt=0, lt=1)
    window: Literal["since_drift", "last_n", "all"] = "since_drift"
    last_n: int = Field(5000, ge=10)
    every_n_labels: int | None = Field(None, ge=1)
    every_seconds: float | None = Field(None, gt=0)
    cooldown_s: float = Field(120.0, ge=0)
    max_runs_per_hour: int = Field(6, ge=1)
    retrain_on: tuple[Literal["concept", "data", "prediction"], ...] = Field(
        ("concept",),
        description="Drift kinds that trigger a retrain. Data and prediction drift need no "
        "labels and warn early, but a model retrained on them cannot be shown better yet; "
        "they are published for ops and retrain only when listed here.",
    )
    gate: Literal["not_worse", "better_after_drift"] = "not_worse"
    gate_margin: float = Field(0.01, ge=0)
    gate_metric: str = "accuracy"
    reuse_earlier: bool = Field(
        True,
        description="On drift, score the model's earlier versions (newest five of the same "
        "feature view version) on the post-drift window; one better than the champion by "
        "gate_margin becomes the candidate without training (a recurring concept).",
    )


class DriftPolicy(_Strict):
    """How monitoring detects drift for the model."""

    detector: Literal["adwin", "page_hinkley", "kswin"] = "adwin"
    detector_params: dict[str, Any] = Field(default_factory=dict)
    psi_threshold: float = Field(0.2, gt=0)
    test_alpha: float = Field(0.01, gt=0, lt=1)
    window: int = Field(1000, ge=10)
    min_samples: int = Field(300, ge=10)
    cooldown_s: float = Field(120.0, ge=0)
    label_wait_s: float = Field(3600.0, gt=0)


class RolloutPolicy(_Strict):
    """How a candidate is rolled out and judged."""

    mode: Literal["canary", "shadow", "shadow_then_canary"] = Field(
        "canary",
        description="canary: a share of traffic per step; shadow: the candidate scores every "
        "request beside the champion and a pass promotes; shadow_then_canary: shadow until the "
        "paired test passes, then the canary steps, each after min_predictions candidate "
        "predictions with the guard rails clear.",
    )
    steps: tuple[float, ...] = (0.1, 0.5, 1.0)
    min_labelled_per_side: int = Field(200, ge=10)
    metric: str = "accuracy"
    margin: float = Field(0.02, ge=0)
    alpha: float = Field(0.05, gt=0, lt=1)
    timeout_s: float = Field(600.0, gt=0)
    max_error_rate: float = Field(0.01, ge=0, le=1)
    max_latency_p99_ratio: float = Field(3.0, gt=1)

    @model_validator(mode="after")
    def _check(self) -> RolloutPolicy:
        if not self.steps or any(not 0 < s <= 1 for s in self.steps):
            raise ValueError("steps are shares in (0, 1]")
        if list(self.steps) != sorted(self.steps):
            raise ValueError("steps must increase")
        return self


class ModelSpec(_Strict):
    """A model the platform trains, serves, watches and replaces."""

    name: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_\-]*$")
    feature_view: str
    task: Literal["classification", "regression"] = "classification"
    trainer: TrainerSpec = Field(default_factory=TrainerSpec)
    training: TrainingPolicy = Field(default_factory=TrainingPolicy)
    drift: DriftPolicy = Field(default_factory=DriftPolicy)
    rollout: RolloutPolicy = Field(default_factory=RolloutPolicy)


class Spec(_Strict):
    """The whole declarative spec."""

    api_version: Literal["driftloop/v1"] = "driftloop/v1"
    streams: tuple[StreamSpec, ...] = ()
    feature_views: tuple[FeatureViewSpec, ...] = ()
    models: tuple[ModelSpec, ...] = ()

    def reference_problems(self) -> list[tuple[tuple[int | str, ...], str]]:
        """Names that must be unique or must refer to something declared,
        each with the location of the offending value."""
        problems: list[tuple[tuple[int | str, ...], str]] = []
        for kind, names in (
            ("streams", [s.name for s in self.streams]),
            ("feature_views", [v.name for v in self.feature_views]),
            ("models", [m.name for m in self.models]),
        ):
            seen: set[str] = set()
            for i, name in enumerate(names):
                if name in seen:
                    problems.append(((kind, i, "name"), f"duplicate name {name!r}"))
                seen.add(name)
        for v, view in enumerate(self.feature_views):
            stream = self.stream(view.stream)
            if stream is None:
                problems.append((("feature_views", v, "stream"), f"unknown stream {view.stream!r}"))
                continue
            for f, feat in enumerate(view.features):
                for attr in ("field", "numerator", "denominator"):
                    ref = getattr(feat, attr)
                    if ref and stream.field(ref) is None:
                        problems.append(
                            (
                                ("feature_views", v, "features", f, attr),
                                f"stream {stream.name!r} has no field {ref!r}",
                            )
                        )
        for m, model in enumerate(self.models):
            if self.view(model.feature_view) is None:
                problems.append(
                    (("models", m, "feature_view"), f"unknown feature view {model.feature_view!r}")
                )
        return problems

    def stream(self, name: str) -> StreamSpec | None:
        return next((s for s in self.streams if s.name == name), None)

    def view(self, name: str) -> FeatureViewSpec | None:
        return next((v for v in self.feature_views if v.name == name), None)

    def model(self, name: str) -> ModelSpec | None:
        return next((m for m in self.models if m.name == name), None)


class SpecError(ValueError):
    """The spec is invalid; ``problems`` lists (path, line, message)."""

    def __init__(self, source: str, problems: list[tuple[str, int | None, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [
            f"  {path or '<root>'}{f' (line {line})' if line else ''}: {msg}"
            for path, line, msg in problems
        ]
        super().__init__(f"{source}: {len(problems)} problem(s)\n" + "\n".join(lines))


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the deepest YAML node along ``loc``."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
            if child is None:
                break
            node = child
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
        else:
            break
        line = node.start_mark.line + 1
    return line


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_spec(text: str, source: str = "<spec>") -> Spec:
    """Validate spec text; raise :class:`SpecError` naming every problem at
    once, each with its path, line and the value that is wrong."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(source, [_yaml_problem(exc)]) from None
    if data is None:
        raise SpecError(source, [("", None, _EMPTY)])
    if not isinstance(data, dict):
        raise SpecError(source, [("", 1, f"the spec must be a mapping, not {data!r}")])
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        problems = [_schema_problem(err, node) for err in exc.errors()]
        refs = _reference_problems_of_valid_parts(data)
        raise SpecError(
            source, problems + [(_path(loc), _line_of(node, loc), msg) for loc, msg in refs]
        ) from None
    refs = spec.reference_problems()
    if refs:
        raise SpecError(source, [(_path(loc), _line_of(node, loc), msg) for loc, msg in refs])
    if not (spec.streams or spec.feature_views or spec.models):
        raise SpecError(source, [("", None, _EMPTY)])
    return spec


_EMPTY = "the spec is empty: it declares no streams, feature views or models"


def _yaml_problem(exc: yaml.YAMLError) -> tuple[str, int | None, str]:
    # PyYAML's own message names "<unicode string>"; say where, not what.
    mark = getattr(exc, "problem_mark", None)
    what = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    where = f" (column {mark.column + 1})" if mark else ""
    return (
        "",
        mark.line + 1 if mark else None,
        f"not YAML{f' ({context})' if context else ''}: {what}{where}",
    )


def _schema_problem(err: Any, node: yaml.Node | None) -> tuple[str, int | None, str]:
    loc = tuple(p for p in err["loc"] if not str(p).startswith(("function-", "literal")))
    msg = err["msg"].removeprefix("Value error, ")
    value = err.get("input")
    if err["type"] != "missing" and isinstance(value, str | int | float | bool):
        msg += f" (got {value!r})"
    return (_path(loc), _line_of(node, loc), msg)


def _reference_problems_of_valid_parts(data: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    """Reference problems among the streams, views and models that are valid
    on their own, so that one run shows them beside the schema errors. A
    reference to an item that is declared but invalid is not reported."""
    kept: dict[str, list[Any]] = {}
    index: dict[str, list[int]] = {}
    invalid: set[str] = set()
    for key, cls in (
        ("streams", StreamSpec),
        ("feature_views", FeatureViewSpec),
        ("models", ModelSpec),
    ):
        items = data.get(key)
        kept[key], index[key] = [], []
        for i, item in enumerate(items if isinstance(items, list) else ()):
            try:
                kept[key].append(cls.model_validate(item))
                index[key].append(i)
            except ValidationError:
                if isinstance(item, dict) and isinstance(item.get("name"), str):
                    invalid.add(item["name"])
    partial = Spec.model_construct(
        streams=tuple(kept["streams"]),
        feature_views=tuple(kept["feature_views"]),
        models=tuple(kept["models"]),
    )
    problems: list[tuple[tuple[Any, ...], str]] = []
    for (section, at, *rest), msg in partial.reference_problems():
        if msg.startswith("unknown ") and msg.rsplit(" ", 1)[-1].strip("'") in invalid:
            continue
        problems.append(((section, index[str(section)][int(at)], *rest), msg))
    return problems


def load_spec(path: Path) -> Spec:
    """Read and validate a spec file."""
    return parse_spec(path.read_text(), str(path))
