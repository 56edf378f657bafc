"""What intake produces: accepted records, rejections with their reason, and
where each item came from. Plain data, no transport types."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any, NamedTuple


class Reason(IntEnum):
    """Why a record or label was rejected (same numbers as the wire enum)."""

    MALFORMED = 1
    UNKNOWN_STREAM = 2
    MISSING_FIELD = 3
    WRONG_TYPE = 4
    OUT_OF_RANGE = 5
    UNKNOWN_CATEGORY = 6
    TOO_LONG = 7
    OVERSIZED = 8
    UNKNOWN_FIELD = 9
    BATCH_TOO_LARGE = 10
    INVALID_LABEL = 11
    INVALID_TIMESTAMP = 12

    @property
    def label(self) -> str:
        """Lower-case name, for metrics and logs."""
        return self.name.lower()


class Rejected(Exception):
    """A record or label failed validation; ``field`` names the culprit."""

    def __init__(self, reason: Reason, field: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.field = field
        self.message = message


class KafkaOrigin(NamedTuple):
    topic: str
    partition: int
    offset: int
    #: The id of the log (Kafka cluster) it was read from: offsets restart
    #: at 0 in a reset log, so a position alone does not name a record.
    log_id: str = ""

    @property
    def key(self) -> str:
        """The record's position, unique across logs."""
        return f"{self.log_id}/{self.topic}/{self.partition}/{self.offset}"


class GrpcOrigin(NamedTuple):
    peer: str
    method: str
    request_id: str
    position: int  # index of the item in its request (``index`` would shadow tuple.index)


Origin = KafkaOrigin | GrpcOrigin

_DEAD_LETTER_NS = uuid.UUID("1b0f7c52-3c1e-4f7e-9a53-6d1f0c2b8e41")
_RECORD_NS = uuid.UUID("5e0d8f4a-7b21-4c0e-8f3d-2a9c6b1e7d52")


def record_id_for(origin: Origin | None) -> str:
    """Id of a record that came without one: derived from where it was read
    for the raw topic (the same id when it is read again after a crash, so
    the redelivery dedupes), fresh for each gRPC submission.

    >>> at = KafkaOrigin("driftloop.records.raw", 1, 42, "cluster-a")
    >>> record_id_for(at) == record_id_for(at)
    True
    >>> record_id_for(at) == record_id_for(at._replace(log_id="cluster-b"))
    False
    """
    if isinstance(origin, KafkaOrigin):
        return uuid.uuid5(_RECORD_NS, origin.key).hex
    return uuid.uuid4().hex


def dead_letter_id(origin: Origin | None) -> str:
    """Event id of the dead letter for a rejected item: the same for a raw-topic
    record read again after a restart (so consumers can dedupe it), fresh for
    each gRPC submission (or an item of unknown origin).

    >>> a = dead_letter_id(KafkaOrigin("driftloop.records.raw", 1, 42))
    >>> a == dead_letter_id(KafkaOrigin("driftloop.records.raw", 1, 42))
    True
    """
    if isinstance(origin, KafkaOrigin):
        return uuid.uuid5(_DEAD_LETTER_NS, origin.key).hex
    return uuid.uuid4().hex


@dataclass(slots=True)
class ValidRecord:
    """A record that passed its stream's schema."""

    record_id: str
    id_given: bool
    stream: str
    schema_version: int
    entity_id: str
    event_time: datetime | None
    fields: dict[str, Any]
    origin: Origin | None = None


@dataclass(slots=True)
class DeadLetter:
    """A rejected record or label, with everything needed to find and replay it."""

    event_id: str
    stream: str
    original: bytes
    reason: Reason
    field: str
    message: str
    origin: Origin | None
    headers: dict[str, bytes] = dataclasses.field(default_factory=dict)
    is_label: bool = False
    caused_by: str = ""


@dataclass(slots=True)
class ValidLabel:
    """Ground truth for a record (which may not have been seen yet)."""

    event_id: str
    stream: str
    record_id: str
    value: Any
    label_time: datetime
    record_seen: bool


@dataclass(frozen=True, slots=True)
class BadRateAlert:
    """A stream's rejected share passed its threshold."""

    stream: str
    rate: float
    threshold: float
    window_records: int
    window_rejected: int
    rejected_by_reason: dict[str, int]
