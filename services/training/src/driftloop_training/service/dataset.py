"""Use cases that keep the offline dataset: store vectors and labels as they
arrive (in any order), and apply retention."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import structlog

from driftloop.platform.errors import InvalidArgument
from driftloop.platform.spec import Spec
from driftloop_training.service.ports import DatasetStore
from driftloop_training.service.runs import now_utc
from driftloop_training.settings import TrainingSection

log = structlog.get_logger(__name__)


class Dataset:
    def __init__(
        self,
        spec: Spec,
        store: DatasetStore,
        settings: TrainingSection,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        used = {m.feature_view for m in spec.models}
        self.views = {(v.name, v.version) for v in spec.feature_views if v.name in used}

    def add_vector(
        self,
        record_id: str,
        view: str,
        view_version: int,
        entity_id: str,
        event_time: datetime,
        names: list[str],
        values: list[float],
    ) -> bool:
        """Keep a vector of a view some model trains on; False when no model uses it."""
        if not record_id:
            raise InvalidArgument("record_id is empty")
        if len(names) != len(values):
            raise InvalidArgument(f"{len(names)} feature_names but {len(values)} values")
        if (view, view_version) not in self.views:
            log.debug("dataset.vector_skipped", view=view, view_version=view_version)
            return False
        self.store.put_vector(
            record_id, view, view_version, entity_id, event_time, names, values, self.clock()
        )
        return True

    def add_label(self, record_id: str, label: float | str | None, label_time: datetime) -> None:
        if not record_id:
            raise InvalidArgument("record_id is empty")
        if label is None:
            raise InvalidArgument("label has no value")
        self.store.put_label(record_id, label, label_time, self.clock())

    def prune(self) -> int:
        removed = self.store.prune(
            self.clock(), self.settings.retention_max_age_s, self.settings.retention_max_rows
        )
        if removed:
            log.info("dataset.pruned", rows=removed)
        return removed

    def retention_cutoff(self) -> datetime:
        return self.clock() - timedelta(seconds=self.settings.retention_max_age_s)
