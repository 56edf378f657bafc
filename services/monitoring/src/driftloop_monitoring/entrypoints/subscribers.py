"""Kafka subscribers: decode, hand to the monitor, publish what it decided.
Bad input is rejected to the dead-letter topic with the field named."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol, TypeVar

import structlog
from faststream.kafka import KafkaBroker
from google.protobuf.message import Message

from driftloop.feature.v1.events_pb2 import FeatureVectorComputed
from driftloop.ingestion.v1.events_pb2 import LabelReceived
from driftloop.platform import topics
from driftloop.platform.bus import EventBus, Reject, subscribe
from driftloop.platform.envelope import EventContext
from driftloop.registry.v1.events_pb2 import AliasChanged, ModelVersionRegistered
from driftloop.serving.v1.events_pb2 import PredictionMade
from driftloop_monitoring.codec import converters
from driftloop_monitoring.domain.events import DriftFound, RolloutChanged
from driftloop_monitoring.service.monitor import Monitor

log = structlog.get_logger(__name__)
T = TypeVar("T")
E = TypeVar("E", bound=Message)
REGISTERED = ModelVersionRegistered.DESCRIPTOR.full_name
ALIAS = AliasChanged.DESCRIPTOR.full_name


class Facts(Protocol):
    """Where the monitor's decisions go (adapters/publisher.py in the service)."""

    async def publish(
        self, facts: Iterable[DriftFound | RolloutChanged], ctx: EventContext | None = None
    ) -> None: ...


def _parse(fn: Callable[[E], T], event: E) -> T:
    try:
        return fn(event)
    except ValueError as exc:
        raise Reject(str(exc)) from None


def register(broker: KafkaBroker, bus: EventBus, monitor: Monitor, out: Facts, group: str) -> None:
    """Subscribe the monitor to its five inputs, each in its own consumer group."""

    async def flush() -> None:
        monitor.flush()

    async def on_prediction(e: PredictionMade, ctx: EventContext) -> None:
        facts = []
        for p in _parse(converters.predictions_from, e):
            facts += monitor.on_prediction(p)
        await out.publish(facts, ctx)

    async def on_label(e: LabelReceived, ctx: EventContext) -> None:
        await out.publish(monitor.on_label(_parse(converters.label_from, e)), ctx)

    async def on_features(e: FeatureVectorComputed, ctx: EventContext) -> None:
        record_id, view, names, values, at = _parse(converters.features_from, e)
        await out.publish(monitor.on_features(record_id, view, names, values, at), ctx)

    async def on_registered(e: ModelVersionRegistered, ctx: EventContext) -> None:
        monitor.on_version(converters.version_from(e.version))

    async def on_alias(e: AliasChanged, ctx: EventContext) -> None:
        if not e.model or not e.alias:
            raise Reject("model and alias are required")
        info = converters.version_from(e.model_version) if e.model_version.version else None
        facts = monitor.on_alias(
            e.model,
            e.alias,
            e.version,
            e.previous_version,
            info=info,
            event_id=e.meta.event_id or ctx.id,
            correlation_id=e.meta.correlation_id or ctx.correlation_id,
            sequence=e.sequence,
        )
        await out.publish(facts, ctx)

    def sub(
        topic: str,
        kind: type[Message],
        handler: Callable[..., Awaitable[None]],
        name: str,
        **kw: Any,
    ) -> None:
        subscribe(broker, bus, topic, kind, handler, group=f"{group}-{name}", on_batch=flush, **kw)

    sub(topics.PREDICTIONS.name, PredictionMade, on_prediction, "predictions")
    sub(topics.LABELS.name, LabelReceived, on_label, "labels")
    sub(topics.FEATURES.name, FeatureVectorComputed, on_features, "features")
    sub(topics.MODELS.name, ModelVersionRegistered, on_registered, "versions", ignore_types=[ALIAS])
    sub(topics.MODELS.name, AliasChanged, on_alias, "aliases", ignore_types=[REGISTERED])
