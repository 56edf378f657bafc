"""The event envelope: protobuf payload plus CloudEvents binary-mode headers.

``ce_type`` is the protobuf message's full name, so any consumer (or the CLI)
can decode a payload from the headers alone; ``ce_id`` equals the payload's
``meta.event_id``.
"""

from __future__ import annotations

import importlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import Message

from driftloop.common.v1.common_pb2 import EventMeta

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/protobuf"

# Every module that defines events, so their types can be found by name.
_EVENT_MODULES = (
    "driftloop.bus.v1.deadletter_pb2",
    "driftloop.ingestion.v1.events_pb2",
    "driftloop.feature.v1.events_pb2",
    "driftloop.training.v1.events_pb2",
    "driftloop.registry.v1.events_pb2",
    "driftloop.serving.v1.events_pb2",
    "driftloop.monitoring.v1.events_pb2",
)


@dataclass(frozen=True)
class EventContext:
    """The CloudEvents attributes of a received event, and where it was read."""

    id: str
    type: str
    source: str
    time: str
    causation_id: str = ""
    correlation_id: str = ""
    topic: str = ""
    partition: int = -1
    offset: int = -1


def new_id() -> str:
    """A fresh event id."""
    return uuid.uuid4().hex


def new_meta(
    source: str,
    *,
    event_id: str | None = None,
    caused_by: EventMeta | EventContext | str | None = None,
    occurred_at: datetime | None = None,
) -> EventMeta:
    """Meta for a new event. ``caused_by`` (an event's meta or context, or an id)
    sets the causation id, and carries its correlation id along the chain."""
    meta = EventMeta(event_id=event_id or new_id(), source=source)
    meta.occurred_at.FromDatetime(occurred_at or datetime.now(UTC))
    if isinstance(caused_by, EventMeta):
        meta.causation_id = caused_by.event_id
        meta.correlation_id = caused_by.correlation_id or caused_by.event_id
    elif isinstance(caused_by, EventContext):
        meta.causation_id = caused_by.id
        meta.correlation_id = caused_by.correlation_id or caused_by.id
    elif caused_by:
        meta.causation_id = caused_by
        meta.correlation_id = caused_by
    if not meta.correlation_id:
        meta.correlation_id = meta.event_id
    return meta


def headers_for(event: Message) -> dict[str, str]:
    """CloudEvents binary-mode headers for an event with a ``meta`` field."""
    meta: EventMeta = event.meta  # type: ignore[attr-defined]
    if not meta.event_id:
        raise ValueError(f"{event.DESCRIPTOR.full_name} has no meta.event_id")
    headers = {
        "ce_specversion": SPEC_VERSION,
        "ce_id": meta.event_id,
        "ce_type": event.DESCRIPTOR.full_name,
        "ce_source": f"driftloop/{meta.source or 'unknown'}",
        "ce_time": meta.occurred_at.ToDatetime(tzinfo=UTC).isoformat().replace("+00:00", "Z"),
        "content-type": CONTENT_TYPE,
    }
    if meta.causation_id:
        headers["ce_causationid"] = meta.causation_id
    if meta.correlation_id:
        headers["ce_correlationid"] = meta.correlation_id
    return headers


def context_from(
    headers: dict[str, str], *, topic: str = "", partition: int = -1, offset: int = -1
) -> EventContext:
    """The envelope of a received event (missing attributes are empty)."""
    return EventContext(
        id=headers.get("ce_id", ""),
        type=headers.get("ce_type", ""),
        source=headers.get("ce_source", ""),
        time=headers.get("ce_time", ""),
        causation_id=headers.get("ce_causationid", ""),
        correlation_id=headers.get("ce_correlationid", ""),
        topic=topic,
        partition=partition,
        offset=offset,
    )


@cache
def message_class(full_name: str) -> type[Message]:
    """The generated class of an event type by its full name (``ce_type``)."""
    for module in _EVENT_MODULES:
        importlib.import_module(module)
    descriptor = descriptor_pool.Default().FindMessageTypeByName(full_name)
    return message_factory.GetMessageClass(descriptor)
