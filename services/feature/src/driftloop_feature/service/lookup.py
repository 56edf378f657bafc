"""The online lookup use cases: newest vectors per entity, and the views."""

from __future__ import annotations

from collections.abc import Sequence

from driftloop.platform.errors import InvalidArgument, NotFound
from driftloop_feature.domain.views import CompiledView
from driftloop_feature.service.ports import OnlineEntry, OnlineStore


class OnlineFeatures:
    """Reads the online store for the views this service computes."""

    def __init__(self, views: list[CompiledView], store: OnlineStore, max_entities: int) -> None:
        self._views = {v.name: v for v in views}
        self._store = store
        self._max = max_entities

    def views(self) -> list[CompiledView]:
        return list(self._views.values())

    async def get(
        self, view_name: str, entity_ids: Sequence[str]
    ) -> tuple[CompiledView, list[OnlineEntry | None]]:
        """The newest vector of each entity (None where there is none)."""
        if not view_name:
            raise InvalidArgument("view: required")
        view = self._views.get(view_name)
        if view is None:
            known = ", ".join(sorted(self._views)) or "none"
            raise NotFound(f"view: no feature view {view_name!r} (known: {known})")
        if not entity_ids:
            raise InvalidArgument("entity_ids: at least one entity id is required")
        if len(entity_ids) > self._max:
            raise InvalidArgument(f"entity_ids: {len(entity_ids)} ids, at most {self._max}")
        for i, entity in enumerate(entity_ids):
            if not entity:
                raise InvalidArgument(f"entity_ids[{i}]: empty entity id")
        return view, await self._store.get_many(view.name, view.version, entity_ids)
