"""Kafka subscribers: thin adapters from events to the use cases. Bad input
raises :class:`Reject`, so the bus dead-letters it with the reason."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from driftloop.feature.v1.events_pb2 import FeatureVectorComputed
from driftloop.ingestion.v1.events_pb2 import LabelReceived
from driftloop.monitoring.v1.events_pb2 import DriftDetected, DriftKind
from driftloop.platform import topics
from driftloop.platform.bus import EventBus, Handler, Reject, subscribe
from driftloop.platform.envelope import EventContext
from driftloop.platform.errors import InvalidArgument, NotFound
from driftloop.registry.v1.events_pb2 import AliasChanged
from driftloop_training.codec.converters import dt, label_value
from driftloop_training.service.dataset import Dataset
from driftloop_training.service.triggers import Triggers


def register(
    broker, bus: EventBus, dataset: Dataset, triggers: Triggers, group: str, replica: str = ""
) -> None:
    """``replica`` (its id, when several run) reads features, labels and alias
    changes in groups of its own, so that each replica has the whole dataset;
    drift events go to one replica (a shared group)."""

    async def on_vector(event: FeatureVectorComputed, ctx: EventContext) -> None:
        event_time = dt(event.event_time, event.HasField("event_time"))
        if event_time is None:
            raise Reject("FeatureVectorComputed.event_time is missing")
        try:
            dataset.add_vector(
                event.record_id,
                event.view,
                event.view_version,
                event.entity_id,
                event_time,
                list(event.feature_names),
                list(event.values),
            )
        except InvalidArgument as exc:
            raise Reject(f"FeatureVectorComputed: {exc}") from None

    async def on_label(event: LabelReceived, ctx: EventContext) -> None:
        # A label without its own time counts from when it was published (or read).
        when = (
            dt(event.label_time, event.HasField("label_time"))
            or dt(event.meta.occurred_at)
            or datetime.now(UTC)
        )
        try:
            dataset.add_label(event.record_id, label_value(event.label), when)
        except InvalidArgument as exc:
            raise Reject(f"LabelReceived: {exc}") from None

    async def on_drift(event: DriftDetected, ctx: EventContext) -> None:
        try:
            await triggers.on_drift(
                event.model.name,
                event.drift_id,
                dt(event.change_started_at, event.HasField("change_started_at")),
                event.meta.event_id or ctx.id,
                kind=DriftKind.Name(event.kind).removeprefix("DRIFT_KIND_").lower(),
            )
        except (NotFound, InvalidArgument) as exc:
            raise Reject(f"DriftDetected: {exc}") from None

    async def on_alias(event: AliasChanged, ctx: EventContext) -> None:
        triggers.on_alias_changed(event.model, event.alias, event.version, event.sequence)

    # One consumer group per topic: four members of one group would rebalance
    # each other at every start, for nothing (their topics do not overlap).
    own = f".{replica}" if replica else ""
    routes: tuple[tuple[str, type[Message], Handler[Any], str], ...] = (
        (topics.FEATURES.name, FeatureVectorComputed, on_vector, own),
        (topics.LABELS.name, LabelReceived, on_label, own),
        (topics.DRIFT.name, DriftDetected, on_drift, ""),
        (topics.MODELS.name, AliasChanged, on_alias, own),
    )
    for topic, event_type, handler, suffix in routes:
        subscribe(broker, bus, topic, event_type, handler, group=f"{group}.{topic}{suffix}")
