"""What the use cases need from the outside world, as protocols. The adapters
(Kafka, Redis, SQLite) implement them; tests use in-memory fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from driftloop_feature.domain.model import Record, Rejection, Vector
from driftloop_feature.domain.partition import PartitionSnapshot, PartitionState


@dataclass(frozen=True)
class OnlineEntry:
    """An entity's newest vector of a view, and when it was computed."""

    vector: Vector
    computed_at: float
    # The records-topic partition the entity lives in (-1: not known).
    partition: int = -1

    def newer_than(self, other: OnlineEntry | None) -> bool:
        return other is None or self.vector.event_time_ns >= other.vector.event_time_ns


class OnlineStore(Protocol):
    """The newest vector per (view version, entity)."""

    async def put_many(self, entries: Sequence[OnlineEntry]) -> None:
        """Store each entry unless the stored one has a newer event time."""

    async def get_many(
        self, view: str, version: int, entity_ids: Sequence[str]
    ) -> list[OnlineEntry | None]:
        """The entries of the entities, in order; None where there is none."""

    async def drop_partitions(self, partitions: set[int]) -> None:
        """Forget the entries of these partitions (this replica no longer
        owns them, so it would serve them stale); a shared store keeps them."""

    async def close(self) -> None: ...


class CheckpointStore(Protocol):
    """Partition states saved together with the offset they reflect. Both
    calls do their I/O off the event loop, in the order they were made."""

    async def load(self, partition: int) -> PartitionState | None:
        """The state every save so far adds up to; None when none was saved."""

    async def save(self, snapshots: Sequence[PartitionSnapshot]) -> None:
        """Apply the snapshots (all or none of them)."""


class Replayer(Protocol):
    """Reads one partition of the records topic again, and tells which log
    it reads (see ``driftloop.platform.log_identity``)."""

    async def end_offset(self, partition: int) -> int:
        """The partition's end offset (the offset the next record will get)."""

    def replay(
        self, partition: int, start: int | None, end: int
    ) -> AsyncIterator[tuple[int, Record | None]]:
        """(offset, record) for offsets in [start, end); from the log start when
        ``start`` is None; record is None when it cannot be decoded."""


class Publisher(Protocol):
    """Collects outcomes and publishes them together."""

    def vector(self, vector: Vector) -> None:
        """Queue a vector for the features topic."""

    def rejection(self, rejection: Rejection) -> None:
        """Queue a dead-letter for the records dead-letter topic."""

    async def flush(self) -> None:
        """Publish everything queued and return once the broker acknowledged
        all of it; raise if it did not (the queue is emptied either way)."""
