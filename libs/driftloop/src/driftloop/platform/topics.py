"""The one table of Kafka topics: name, key, and the events they carry."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    """A topic; docs/asyncapi.yaml and docs/CONTRACTS.md's table are generated
    from these (``make asyncapi``)."""

    name: str
    key: str
    carries: tuple[str, ...]  # protobuf message names, or a description
    producers: tuple[str, ...] = ()
    consumers: tuple[str, ...] = ()


_P = "driftloop."

RECORDS_RAW = Topic(
    _P + "records.raw",
    "entity id (any)",
    ("JSON (or protobuf `RecordInput`) from apps",),
    ("producer apps",),
    ("ingestion",),
)
LABELS_RAW = Topic(
    _P + "labels.raw",
    "record id",
    ('JSON labels `{"id","label","label_time"?, "stream"}`',),
    ("producer apps",),
    ("ingestion",),
)
RECORDS_VALIDATED = Topic(
    _P + "records.validated",
    "entity id",
    ("driftloop.ingestion.v1.RecordValidated",),
    ("ingestion",),
    ("feature",),
)
RECORDS_DEADLETTER = Topic(
    _P + "records.deadletter",
    "stream",
    ("driftloop.ingestion.v1.RecordDeadLettered",),
    ("ingestion", "feature"),
    ("ops",),
)
LABELS = Topic(
    _P + "labels",
    "record id",
    ("driftloop.ingestion.v1.LabelReceived",),
    ("ingestion",),
    ("training", "monitoring"),
)
ALERTS = Topic(
    _P + "alerts",
    "stream or model name",
    (
        "driftloop.ingestion.v1.BadRecordRateExceeded",
        "driftloop.serving.v1.RegistryAnswerLacksModel",
    ),
    ("ingestion", "serving"),
    ("ops",),
)
FEATURES = Topic(
    _P + "features",
    "entity id",
    ("driftloop.feature.v1.FeatureVectorComputed",),
    ("feature",),
    ("serving", "training", "monitoring"),
)
PREDICTIONS = Topic(
    _P + "predictions",
    "model name",
    ("driftloop.serving.v1.PredictionMade",),
    ("serving",),
    ("monitoring",),
)
SERVING = Topic(
    _P + "serving",
    "model name",
    ("driftloop.serving.v1.ModelLoaded", "driftloop.serving.v1.ModelLoadFailed"),
    ("serving",),
    ("ops",),
)
DRIFT = Topic(
    _P + "drift",
    "model name",
    ("driftloop.monitoring.v1.DriftDetected",),
    ("monitoring",),
    ("training",),
)
TRAINING = Topic(
    _P + "training",
    "model name",
    (
        "driftloop.training.v1.TrainingRequested",
        "driftloop.training.v1.TrainingStarted",
        "driftloop.training.v1.TrainingCompleted",
        "driftloop.training.v1.TrainingFailed",
    ),
    ("training",),
    ("ops",),
)
MODELS = Topic(
    _P + "models",
    "model name",
    ("driftloop.registry.v1.ModelVersionRegistered", "driftloop.registry.v1.AliasChanged"),
    ("registry",),
    ("serving", "monitoring", "training"),
)
ROLLOUTS = Topic(
    _P + "rollouts",
    "model name",
    (
        "driftloop.monitoring.v1.RolloutStarted",
        "driftloop.monitoring.v1.RolloutStepped",
        "driftloop.monitoring.v1.RolloutDecided",
        "driftloop.monitoring.v1.RolloutCompleted",
        "driftloop.serving.v1.TrafficSplitPinned",
    ),
    ("monitoring", "serving"),
    ("serving", "registry"),
)
DEADLETTER = Topic(
    _P + "deadletter",
    "original topic",
    ("driftloop.bus.v1.EventDeadLettered",),
    ("any consumer (the bus)",),
    ("ops",),
)

ALL: tuple[Topic, ...] = (
    RECORDS_RAW,
    LABELS_RAW,
    RECORDS_VALIDATED,
    RECORDS_DEADLETTER,
    LABELS,
    ALERTS,
    FEATURES,
    PREDICTIONS,
    SERVING,
    DRIFT,
    TRAINING,
    MODELS,
    ROLLOUTS,
    DEADLETTER,
)

#: Which topic each event type is published on.
TOPIC_OF: dict[str, str] = {t: topic.name for topic in ALL for t in topic.carries if "." in t}


def by_name(name: str) -> Topic:
    """The topic called ``name`` (with or without the ``driftloop.`` prefix)."""
    full = name if name.startswith(_P) else _P + name
    for topic in ALL:
        if topic.name == full:
            return topic
    raise KeyError(f"unknown topic {name!r}; known: {', '.join(t.name for t in ALL)}")
