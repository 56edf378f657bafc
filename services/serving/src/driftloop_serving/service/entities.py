"""Entity-keyed inference: a request that names an entity instead of sending
a tensor is scored on the entity's newest vector from the online store, after
checking that the vector is fresh and of the view the model was trained on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from driftloop.platform.errors import FailedPrecondition, InvalidArgument, NotFound
from driftloop_serving.domain.models import Loaded
from driftloop_serving.domain.tensors import DTYPES


@dataclass(frozen=True, slots=True)
class EntityVector:
    """An entity's newest vector of a feature view, as the online store has it."""

    view: str
    view_version: int
    names: tuple[str, ...]
    values: tuple[float, ...]
    record_id: str
    age_s: float


class FeatureLookup(Protocol):
    """The online store (the feature service's ``GetOnlineFeatures``)."""

    async def newest(self, view: str, entity_id: str) -> EntityVector | None:
        """The entity's newest vector of ``view``; None when it has none."""


@dataclass(frozen=True, slots=True)
class EntityFeeds:
    """The feeds built from an entity's vector, and the vector itself."""

    feeds: dict[str, np.ndarray]
    vector: EntityVector


class EntityInputs:
    """Builds a model's feeds from an entity's newest vector."""

    def __init__(self, lookup: FeatureLookup, max_age_s: float) -> None:
        self.lookup = lookup
        self.max_age_s = max_age_s

    async def feeds(self, loaded: Loaded, entity_id: str, view: str) -> EntityFeeds:
        """Raise NotFound (no vector), FailedPrecondition (stale, or not the
        model's view or view version) or InvalidArgument (model not fed by one
        vector)."""
        info = loaded.info
        if not info.feature_view:
            raise FailedPrecondition(
                f"model {info.model!r} v{info.version} names no feature view; "
                "send an input tensor instead of entity_id"
            )
        if view and view != info.feature_view:
            raise FailedPrecondition(
                f"feature view {view!r} does not match model {info.model!r} "
                f"v{info.version}, trained on {info.feature_view!r}"
            )
        if len(loaded.input_specs) != 1:
            raise InvalidArgument(
                f"model {info.model!r} has {len(loaded.input_specs)} inputs; "
                "entity_id feeds exactly one"
            )
        vector = await self.lookup.newest(info.feature_view, entity_id)
        if vector is None:
            raise NotFound(f"entity {entity_id!r} has no vector in view {info.feature_view!r}")
        if info.feature_view_version and vector.view_version != info.feature_view_version:
            raise FailedPrecondition(
                f"view {vector.view!r} is at version {vector.view_version}; model "
                f"{info.model!r} v{info.version} was trained on version "
                f"{info.feature_view_version}"
            )
        if self.max_age_s and vector.age_s > self.max_age_s:
            raise FailedPrecondition(
                f"entity {entity_id!r}: newest vector is {vector.age_s:.1f} s old, more than "
                f"max_vector_age_s={self.max_age_s:g}"
            )
        spec = next(iter(loaded.input_specs.values()))
        row = np.asarray([vector.values], dtype=DTYPES[spec.datatype])
        try:
            spec.check(spec.datatype, row.shape)
        except InvalidArgument as exc:
            raise FailedPrecondition(f"entity {entity_id!r}, view {vector.view!r}: {exc}") from None
        return EntityFeeds({spec.name: row}, vector)
