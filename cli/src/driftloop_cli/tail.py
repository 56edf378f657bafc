"""`driftloop events tail`: print a topic's events as JSON lines, decoded by
their CloudEvents ``ce_type`` header, for ops."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.errors import KafkaError
from google.protobuf.json_format import MessageToDict

from driftloop.platform.bus import aiokafka_options
from driftloop.platform.envelope import message_class
from driftloop.platform.settings import KafkaSettings


class BrokerUnreachable(RuntimeError):
    """No Kafka broker answered at the configured address."""


def render(record: ConsumerRecord) -> dict[str, Any]:
    """A record as a JSON-able dict: position, key, CloudEvents headers, event."""
    headers = {k: (v or b"").decode("utf-8", "replace") for k, v in record.headers or ()}
    out: dict[str, Any] = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "key": (record.key or b"").decode("utf-8", "replace"),
        "headers": headers,
    }
    ce_type = headers.get("ce_type", "")
    try:
        event = message_class(ce_type).FromString(record.value or b"")
        out["event"] = MessageToDict(event, preserving_proto_field_name=True)
    except Exception:
        # Not a driftloop event (raw producer data): show it as text.
        out["value"] = (record.value or b"").decode("utf-8", "replace")
    return out


async def tail(
    settings: KafkaSettings, topic: str, *, from_beginning: bool, idle_timeout_s: float | None
) -> AsyncIterator[dict[str, Any]]:
    """Yield the topic's records as dicts; stop after ``idle_timeout_s`` with none."""
    consumer = AIOKafkaConsumer(
        topic,
        **aiokafka_options(settings),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    try:
        await consumer.start()
    except (KafkaError, OSError) as exc:
        await consumer.stop()
        raise BrokerUnreachable(
            f"no Kafka broker answers at {settings.servers} ({type(exc).__name__})"
        ) from None
    try:
        while True:
            batch = await consumer.getmany(
                timeout_ms=int((idle_timeout_s or 3600) * 1000), max_records=500
            )
            if not batch and idle_timeout_s is not None:
                return
            for records in batch.values():
                for record in records:
                    yield render(record)
    finally:
        await consumer.stop()


def to_line(item: dict[str, Any]) -> str:
    return json.dumps(item, default=str, separators=(",", ":"))
