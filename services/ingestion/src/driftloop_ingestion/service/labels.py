"""The label intake use case: check ground-truth labels against their
stream's label type and publish them, whether or not the record was seen."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from driftloop.platform.errors import Unavailable
from driftloop_ingestion.domain.labels import check_label
from driftloop_ingestion.domain.recent import RecentIds
from driftloop_ingestion.domain.records import (
    Origin,
    Reason,
    Rejected,
    ValidLabel,
)
from driftloop_ingestion.domain.timestamps import parse_timestamp
from driftloop_ingestion.service import metrics
from driftloop_ingestion.service.catalog import StreamCatalog
from driftloop_ingestion.service.intake import UNKNOWN, Result, Status, dead_letter
from driftloop_ingestion.service.ports import Outgoing, Publisher

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class LabelSubmission:
    """One label as a transport received it."""

    original: bytes
    stream: str
    record_id: Any = None
    value: Any = None
    label_time: Any = None  # datetime, ISO string, epoch seconds or None (now)
    error: Rejected | None = None
    origin: Origin | None = None
    headers: dict[str, bytes] = field(default_factory=dict)


def label_event_id(stream: str, record_id: str, value: Any, label_time: datetime) -> str:
    """Derived from the label's content, so a redelivered label keeps its id."""
    text = f"{stream}\x1f{record_id}\x1f{value!r}\x1f{label_time.isoformat()}"
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class LabelIntake:
    def __init__(
        self,
        catalog: StreamCatalog,
        publisher: Publisher,
        *,
        seen: RecentIds,
        max_id_length: int = 256,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.catalog = catalog
        self.publisher = publisher
        self.seen = seen
        self.max_id_length = max_id_length
        self.clock = clock

    def _check(self, sub: LabelSubmission, now: datetime) -> ValidLabel:
        if sub.error is not None:
            raise sub.error
        try:
            spec = self.catalog.get(sub.stream)
        except Exception:
            raise Rejected(
                Reason.UNKNOWN_STREAM, "stream", f"stream {sub.stream!r} is not registered"
            ) from None
        rid = sub.record_id
        if type(rid) is int:
            rid = str(rid)
        if type(rid) is not str or not rid:
            raise Rejected(Reason.MISSING_FIELD, "id", "field 'id': the record id is required")
        if len(rid) > self.max_id_length:
            raise Rejected(Reason.TOO_LONG, "id", f"field 'id': longer than {self.max_id_length}")
        value = check_label(spec.label, sub.stream, sub.value)
        when = now
        if sub.label_time is not None:
            try:
                when = parse_timestamp(sub.label_time)
            except (TypeError, ValueError) as exc:
                raise Rejected(
                    Reason.INVALID_TIMESTAMP, "label_time", f"field 'label_time': {exc}"
                ) from None
        return ValidLabel(
            event_id=label_event_id(sub.stream, rid, value, when),
            stream=sub.stream,
            record_id=rid,
            value=value,
            label_time=when,
            record_seen=(sub.stream, rid) in self.seen,
        )

    async def submit(self, subs: Sequence[LabelSubmission]) -> list[Result]:
        now = datetime.fromtimestamp(self.clock(), UTC)
        out: list[Outgoing] = []
        results: list[Result] = []
        tally: Counter[tuple[str, str, str, str]] = Counter()
        for sub in subs:
            try:
                label = self._check(sub, now)
            except Rejected as exc:
                dead = dead_letter(sub, exc, is_label=True)
                out.append(dead)
                results.append(Result(dead.event_id, Status.REJECTED, exc))
                known = sub.stream if self.catalog.validator(sub.stream) else UNKNOWN
                tally[known, "rejected", exc.reason.label, ""] += 1
                continue
            out.append(label)
            results.append(Result(label.event_id, Status.ACCEPTED))
            tally[label.stream, "accepted", "", str(label.record_seen).lower()] += 1
        try:
            await self.publisher.publish(out)
        except Exception as exc:
            log.error("labels.publish_failed", labels=len(out), error=repr(exc))
            raise Unavailable(f"the broker did not acknowledge the labels: {exc!r}") from exc
        metrics.count_labels(tally)
        return results
