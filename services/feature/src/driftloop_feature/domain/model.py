"""The values the feature domain works with: records in, vectors and
rejections out. No transport types here."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

#: A field value as the domain sees it (a timestamp is a datetime).
FieldValue = float | int | bool | str | datetime | None


@dataclass(frozen=True)
class Record:
    """A validated record of a stream, for one entity."""

    record_id: str
    stream: str
    entity_id: str
    event_time_ns: int
    fields: dict[str, FieldValue]
    #: The transport's original, passed through untouched for dead-lettering.
    original: Any = field(default=None, compare=False, repr=False)

    @property
    def event_time(self) -> float:
        """Event time in seconds since the epoch."""
        return self.event_time_ns / 1e9


@dataclass(frozen=True)
class Vector:
    """A feature vector of one record under one view version."""

    event_id: str
    record_id: str
    stream: str
    entity_id: str
    event_time_ns: int
    view: str
    view_version: int
    names: tuple[str, ...]
    values: tuple[float, ...]


class RejectKind(Enum):
    """Why a view could not compute a record's vector."""

    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    NOT_FINITE = "not_finite"
    LATE = "late"


@dataclass(frozen=True)
class Rejection:
    """A record a view could not compute; it is dead-lettered with the reason."""

    event_id: str
    record: Record
    view: str
    view_version: int
    kind: RejectKind
    field: str
    message: str


class CannotCompute(Exception):
    """Raised inside computing; becomes a :class:`Rejection`."""

    def __init__(self, kind: RejectKind, field: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.field = field
        self.message = message


def vector_id(record_id: str, view: str, version: int) -> str:
    """The event id of a record's vector under a view version: the same on
    every recomputation, so consumers dedupe redeliveries and replays.

    >>> vector_id("r1", "v", 1) == vector_id("r1", "v", 1) != vector_id("r1", "v", 2)
    True
    """
    return hashlib.sha256(f"{record_id}\x1f{view}\x1f{version}".encode()).hexdigest()[:32]


def rejection_id(record_id: str, view: str, version: int) -> str:
    """The event id of a record's dead-letter under a view version."""
    return hashlib.sha256(f"{record_id}\x1f{view}\x1f{version}\x1freject".encode()).hexdigest()[:32]
