"""Reads ``driftloop.rollouts`` back from its beginning to its current end, so
that a replica started mid-rollout recovers the share and mode in force
before it reports ready, instead of the default split until the next step.
The topic carries a handful of events per rollout, so reading all of it is
cheap; its live consumer applies whatever comes after."""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf.message import DecodeError, Message

from driftloop.platform import topics
from driftloop.platform.envelope import EventContext, context_from
from driftloop.platform.log_reader import read_back
from driftloop.platform.settings import KafkaSettings


async def read_rollouts(
    settings: KafkaSettings, types: Iterable[type[Message]]
) -> list[tuple[Message, EventContext]]:
    """Every event of ``types`` on the topic now, each partition in order
    (``ctx.offset`` is its position); other event types are left out, and so
    is an event that does not decode (its live delivery dead-letters it)."""
    wanted = {t.DESCRIPTOR.full_name: t for t in types}
    out: list[tuple[Message, EventContext]] = []
    for r in await read_back(settings, topics.ROLLOUTS.name, lambda first, _end: first):
        headers = {k: v.decode("utf-8", "replace") for k, v in r.headers or () if v}
        ctx = context_from(headers, topic=r.topic, partition=r.partition, offset=r.offset)
        if ctx.type in wanted:
            try:
                out.append((wanted[ctx.type].FromString(r.value or b""), ctx))
            except DecodeError:
                continue
    return out
