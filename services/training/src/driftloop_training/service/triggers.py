"""The triggers: drift events, the initial trigger (a model without a
champion and with enough labelled rows) and the label-count / time policy."""

from __future__ import annotations

from datetime import datetime

import structlog

from driftloop.platform.spec import ModelSpec
from driftloop_training.domain.runs import Run, Trigger
from driftloop_training.service.dataset import Dataset
from driftloop_training.service.runs import Runs

log = structlog.get_logger(__name__)


class Triggers:
    def __init__(self, runs: Runs, dataset: Dataset) -> None:
        self.runs = runs
        self.dataset = dataset
        # Models known to have a champion (from the registry or AliasChanged).
        self.has_champion: dict[str, bool] = {}

    async def on_drift(
        self,
        model: str,
        drift_id: str,
        change_started_at: datetime | None,
        event_id: str,
        kind: str = "concept",
    ) -> Run | None:
        spec = self.runs.model(model)  # NotFound: a drift for a model we do not train
        if kind not in spec.training.retrain_on:
            # Drift without label evidence warns ops; it retrains only when asked to.
            log.info("training.drift_not_a_trigger", model=model, drift_id=drift_id, kind=kind)
            return None
        start = change_started_at if spec.training.window == "since_drift" else None
        run, _ = await self.runs.request(
            model,
            Trigger.DRIFT,
            window=self.runs.default_window(spec, start),
            drift_id=drift_id or event_id,
            cause_id=event_id,
            correlation_id=drift_id or event_id,
        )
        return run

    def on_alias_changed(self, model: str, alias: str, version: int) -> None:
        if alias == "champion":
            self.has_champion[model] = version > 0

    async def tick(self) -> None:
        """One pass of the trigger loop over every model of the spec."""
        self.dataset.prune()
        try:
            await self.runs.adopt_orphans()
        except Exception as exc:  # e.g. the lease database is away: next pass
            log.warning("training.adopt_failed", error=repr(exc))
        for model in self.runs.spec.models:
            try:
                await self._tick_model(model)
            except Exception as exc:  # one model's trouble must not stop the others
                log.warning("training.tick_failed", model=model.name, error=repr(exc))

    async def _tick_model(self, model: ModelSpec) -> None:
        view = self.runs.spec.view(model.feature_view)
        assert view is not None
        if not self.has_champion.get(model.name):
            champion = await self.runs.registry.aliased(model.name, "champion")
            self.has_champion[model.name] = champion is not None
        if not self.has_champion[model.name]:
            if self.runs.store.count_labelled(view.name, view.version) >= model.training.min_rows:
                await self.runs.request(model.name, Trigger.INITIAL)
            return
        policy = model.training
        if not (policy.every_n_labels or policy.every_seconds):
            return
        last = self.runs.store.list_runs(model.name, limit=1)
        since = last[0].created_at if last else None
        now = self.runs.clock()
        if policy.every_seconds and (
            since is None or (now - since).total_seconds() >= policy.every_seconds
        ):
            await self.runs.request(model.name, Trigger.SCHEDULE)
        elif policy.every_n_labels and (
            self.runs.store.count_labelled(view.name, view.version, since) >= policy.every_n_labels
        ):
            await self.runs.request(model.name, Trigger.LABEL_COUNT)
