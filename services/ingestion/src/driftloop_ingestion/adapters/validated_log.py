"""Reads back the newest records on ``driftloop.records.validated`` so that a
restarted ingestion process rebuilds its dedupe window from the log instead
of starting blank: a raw batch read again after a crash (its offsets were not
committed, but its records were published) then dedupes, and so does a
caller's retry of a gRPC call that did reach the broker.

The window is rebuilt from whichever log the service reads now, so it can
never describe another (reset) log.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from driftloop.ingestion.v1.events_pb2 import RecordValidated
from driftloop.platform import topics
from driftloop.platform.log_reader import read_back
from driftloop.platform.settings import KafkaSettings


async def recent_records(
    settings: KafkaSettings, window_s: float, max_ids: int
) -> list[tuple[str, str, float]]:
    """(stream, record id, published at) of the records published in the last
    ``window_s`` seconds, at most ``max_ids`` per partition, oldest first."""
    records = await read_back(
        settings, topics.RECORDS_VALIDATED.name, lambda _first, end: end - max_ids
    )
    since_ms = (time.time() - window_s) * 1000
    out = list(_ids(records, since_ms))
    out.sort(key=lambda item: item[2])
    return out


def _ids(records: list, since_ms: float) -> Iterator[tuple[str, str, float]]:
    for r in records:
        if r.timestamp < since_ms:
            continue
        event = RecordValidated.FromString(r.value or b"")
        yield event.stream, event.meta.event_id, r.timestamp / 1000
