"""The default online store: a dict in the service process."""

from __future__ import annotations

from collections.abc import Sequence

from driftloop_feature.service.ports import OnlineEntry


class InMemoryOnlineStore:
    """Newest entry per (view, version, entity), kept in memory."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, int, str], OnlineEntry] = {}

    async def put_many(self, entries: Sequence[OnlineEntry]) -> None:
        for entry in entries:
            v = entry.vector
            key = (v.view, v.view_version, v.entity_id)
            if entry.newer_than(self._entries.get(key)):
                self._entries[key] = entry

    async def drop_partitions(self, partitions: set[int]) -> None:
        gone = [k for k, e in self._entries.items() if e.partition in partitions]
        for key in gone:
            del self._entries[key]

    async def get_many(
        self, view: str, version: int, entity_ids: Sequence[str]
    ) -> list[OnlineEntry | None]:
        return [self._entries.get((view, version, e)) for e in entity_ids]

    async def close(self) -> None:
        self._entries.clear()
