"""In-memory fakes of the service ports."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Sequence

from driftloop_feature.domain.entities import EntityHistory
from driftloop_feature.domain.model import Record, Rejection, Vector
from driftloop_feature.domain.partition import PartitionSnapshot, PartitionState
from driftloop_feature.domain.views import CompiledView

from .helpers import views


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
    """Keeps every saved snapshot; a load adds them up as the SQLite store does."""

    def __init__(self, compiled: list[CompiledView] | None = None) -> None:
        self.views = {v.name: v for v in compiled or views()}
        self.saved: dict[int, list[PartitionSnapshot]] = {}

    async def load(self, partition: int) -> PartitionState | None:
        snapshots = self.saved.get(partition)
        if not snapshots:
            return None
        entities: dict[str, dict[str, EntityHistory]] = {}
        for snap in snapshots:
            if snap.full:
                entities = {}
            for name, view in snap.views.items():
                table = entities.setdefault(name, {})
                for entity, history in view.entities.items():
                    if history is None:
                        table.pop(entity, None)
                    else:
                        table[entity] = history
        last = snapshots[-1]
        restored = {
            name: (
                self.views[name],
                copy.deepcopy(view.summary),
                [(e, h.copy(0)) for e, h in sorted(entities[name].items(), key=_updated)],
            )
            for name, view in last.views.items()
        }
        return PartitionState.restore(partition, last.next_offset, last.log_id, restored)

    async def save(self, snapshots: Sequence[PartitionSnapshot]) -> None:
        for snap in snapshots:
            self.saved.setdefault(snap.partition, []).append(snap)


def _updated(item: tuple[str, EntityHistory]) -> int:
    return item[1].updated


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
