"""In-memory fakes of the service ports."""

from __future__ import annotations

import copy
import pickle
from collections.abc import AsyncIterator, Sequence

from driftloop_feature.domain.model import Record, Rejection, Vector
from driftloop_feature.domain.partition import PartitionState


class FakePublisher:
    def __init__(self) -> None:
        self.vectors: list[Vector] = []
        self.rejections: list[Rejection] = []
        self.queued: list[Vector | Rejection] = []
        self.fail_next = False

    def vector(self, vector: Vector) -> None:
        self.queued.append(vector)

    def rejection(self, rejection: Rejection) -> None:
        self.queued.append(rejection)

    async def flush(self) -> None:
        queued, self.queued = self.queued, []
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("broker gone")
        for item in queued:
            (self.vectors if isinstance(item, Vector) else self.rejections).append(item)


class FakeCheckpoints:
    def __init__(self) -> None:
        self.saved: dict[int, bytes] = {}

    def load(self, partition: int) -> PartitionState | None:
        blob = self.saved.get(partition)
        return None if blob is None else pickle.loads(blob)

    def save(self, states: Sequence[PartitionState]) -> None:
        for s in states:
            self.saved[s.partition] = pickle.dumps(s)


class FakeLog:
    """One partition log of records, replayable like the topic."""

    def __init__(self) -> None:
        self.records: dict[int, list[Record]] = {}
        self.replays: list[tuple[int, int | None, int]] = []

    async def end_offset(self, partition: int) -> int:
        return len(self.records.get(partition, []))

    async def replay(
        self, partition: int, start: int | None, end: int
    ) -> AsyncIterator[tuple[int, Record | None]]:
        self.replays.append((partition, start, end))
        for offset, record in enumerate(self.records.get(partition, [])):
            if (start or 0) <= offset < end:
                yield offset, copy.copy(record)
