"""Use cases around runs: accept a trigger (debounced), then carry the run
through snapshot → train (worker process) → evaluate against the champion →
register → alias, publishing every transition."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import structlog

from driftloop.platform.errors import InvalidArgument, NotFound
from driftloop.platform.spec import FeatureViewSpec, ModelSpec, Spec
from driftloop_training.domain.dataset import Frame
from driftloop_training.domain.debounce import Decision, decide
from driftloop_training.domain.evaluation import (
    classification_metrics,
    regression_metrics,
)
from driftloop_training.domain.runs import Run, RunFailed, RunState, Snapshot, Trigger, Window
from driftloop_training.service.ports import (
    Registration,
    Registry,
    RunEvents,
    Scorer,
    Store,
    Trainer,
    TrainJob,
    VersionInfo,
)
from driftloop_training.service.profiling import training_profile
from driftloop_training.service.promotion import decide_alias, registry_call
from driftloop_training.service.reuse import best_earlier
from driftloop_training.service.single_flight import SingleFlight, trigger_of, window_of
from driftloop_training.service.snapshots import take_snapshot
from driftloop_training.settings import TrainingSection

log = structlog.get_logger(__name__)

WINDOW_POLICIES = ("since_drift", "last_n", "all")


def now_utc() -> datetime:
    return datetime.now(UTC)


class Runs:
    """Starts and carries out training runs; one per model at a time."""

    def __init__(
        self,
        spec: Spec,
        store: Store,
        registry: Registry,
        events: RunEvents,
        trainer: Trainer,
        scorer: Scorer,
        settings: TrainingSection,
        clock: Callable[[], datetime] = now_utc,
        flight: SingleFlight | None = None,
    ) -> None:
        self.spec = spec
        self.store = store
        self.registry = registry
        self.events = events
        self.trainer = trainer
        self.scorer = scorer
        self.settings = settings
        self.clock = clock
        # Across replicas (None: this process is the only one that trains).
        self.flight = flight
        self._lock = asyncio.Lock()
        self._slots = asyncio.Semaphore(settings.max_concurrent_runs)
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def model(self, name: str) -> ModelSpec:
        model = self.spec.model(name)
        if model is None:
            raise NotFound(f"model {name!r} is not in the spec")
        return model

    def default_window(self, model: ModelSpec, start: datetime | None = None) -> Window:
        p = model.training
        return Window(policy=p.window, min_rows=p.min_rows, start=start, last_n=p.last_n)

    async def request(
        self,
        model_name: str,
        trigger: Trigger,
        *,
        window: Window | None = None,
        drift_id: str = "",
        cause_id: str = "",
        correlation_id: str = "",
        seed: int = 0,
        snapshot_id: str = "",
        attempt: int = 1,
    ) -> tuple[Run | None, Decision]:
        """Accept (and start) or refuse a run for ``model_name``; ``attempt`` 2
        retries a run whose replica died (it was accepted already)."""
        model = self.model(model_name)
        window = window or self.default_window(model)
        if window.policy not in WINDOW_POLICIES:
            raise InvalidArgument(
                f"window.policy {window.policy!r} is not one of {WINDOW_POLICIES}"
            )
        if snapshot_id and self.store.load_snapshot(snapshot_id) is None:
            raise NotFound(f"snapshot {snapshot_id!r} does not exist")
        async with self._lock:
            now = self.clock()
            seen = bool(drift_id) and self.store.drift_seen(model.name, drift_id)
            decision = decide(
                trigger,
                recent_runs=self.store.recent_runs(model.name, now - timedelta(hours=1)),
                drift_seen=seen,
                now=now,
                cooldown_s=model.training.cooldown_s,
                max_runs_per_hour=model.training.max_runs_per_hour,
            )
            if trigger is Trigger.DRIFT and drift_id:
                self.store.mark_drift_seen(model.name, drift_id, now)
            if attempt > 1:
                decision = Decision(True, f"retry (attempt {attempt})")
            elif decision.accepted and trigger is Trigger.INITIAL:
                # Checked under the lock, after the store said no run is active:
                # a first run that set the champion after the caller looked
                # must not be followed by a second "first" run.
                if await registry_call(self.registry.aliased(model.name, "champion")):
                    decision = Decision(False, "the model has a champion")
            if decision.accepted and self.flight:
                refusal = await self.flight.claim(model.name, drift_id, retry=attempt > 1)
                decision = Decision(not refusal, refusal or decision.reason)
            if not decision.accepted:
                # Automatic triggers are re-evaluated every tick: refusals are routine.
                level = log.info if trigger in (Trigger.DRIFT, Trigger.MANUAL) else log.debug
                level(
                    "training.trigger_refused",
                    model=model.name,
                    trigger=trigger.name,
                    drift_id=drift_id,
                    reason=decision.reason,
                )
                return None, decision
            trainer = model.trainer
            run = Run(
                run_id=f"run-{uuid.uuid4().hex[:16]}",
                model=model.name,
                trigger=trigger,
                state=RunState.REQUESTED,
                created_at=now,
                window=window,
                seed=seed or trainer.seed,
                trainer=trainer.callable or f"builtin:{trainer.builtin}",
                drift_id=drift_id,
                cause_id=cause_id,
                correlation_id=correlation_id or drift_id or cause_id,
                requested_event_id=uuid.uuid4().hex,
                params={k: str(v) for k, v in sorted(trainer.params.items())},
                pinned_snapshot_id=snapshot_id,
            )
            self.store.save_run(run)
            if self.flight:
                await self.flight.started(run, attempt)
        log.info("training.requested", model=run.model, run_id=run.run_id, trigger=trigger.name)
        try:
            await self.events.requested(run)
        except BaseException:
            if self.flight:
                await self.flight.end(run, done=True)
            raise
        self._tasks[run.run_id] = asyncio.create_task(self._execute(run))
        return run, decision

    def get(self, run_id: str) -> Run:
        run = self.store.get_run(run_id)
        if run is None:
            raise NotFound(f"run {run_id!r} does not exist")
        return run

    async def wait_idle(self) -> None:
        """Wait for every run in progress (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def adopt_orphans(self) -> None:
        """Retry, once, the runs of replicas that died mid-run."""
        if not self.flight:
            return
        for doc in await self.flight.orphans(m.name for m in self.spec.models):
            req = doc["run"]
            if doc.get("attempt", 1) >= 2:
                log.error("training.run_abandoned", model=req["model"], run_id=req["run_id"])
                await self.flight.abandon(req["model"])
                continue
            log.warning("training.run_adopted", model=req["model"], run_id=req["run_id"])
            await self.request(
                req["model"],
                trigger_of(req),
                window=window_of(req),
                drift_id=req["drift_id"],
                cause_id=req["cause_id"],
                correlation_id=req["correlation_id"],
                seed=req["seed"],
                attempt=2,
            )

    async def recover(self) -> None:
        """Runs left active by a crash or stop cannot resume: mark them failed."""
        for run in self.store.active_runs():
            if run.run_id not in self._tasks:
                await self._fail(
                    run, RunFailed("interrupted", "the service stopped during the run")
                )

    async def stop(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        await self.wait_idle()

    # --- one run ------------------------------------------------------------

    async def _execute(self, run: Run) -> None:
        try:
            async with self._held(run), self._slots:
                await self._carry_out(run)
        except RunFailed as failure:
            await self._fail(run, failure)
        except asyncio.CancelledError:
            await self._fail(run, RunFailed("interrupted", "the service stopped during the run"))
        except Exception as exc:
            log.exception("training.run_crashed", run_id=run.run_id)
            await self._fail(run, RunFailed("internal", f"{type(exc).__name__}: {exc}"))
        finally:
            self._tasks.pop(run.run_id, None)

    def _held(self, run: Run) -> contextlib.AbstractAsyncContextManager[None]:
        return self.flight.held(run) if self.flight else contextlib.nullcontext()

    async def _fail(self, run: Run, failure: RunFailed) -> None:
        run.state = RunState.FAILED
        run.error = failure.reason
        run.failure_kind = failure.kind
        run.finished_at = self.clock()
        self.store.save_run(run)
        log.warning("training.failed", run_id=run.run_id, kind=failure.kind, reason=failure.reason)
        try:
            await self.events.failed(run)
        except Exception as exc:  # the run is recorded failed either way
            log.error("training.failed_event_lost", run_id=run.run_id, error=repr(exc))

    async def _carry_out(self, run: Run) -> None:
        model = self.model(run.model)
        view = self.spec.view(model.feature_view)
        assert view is not None  # the spec validated its references
        frame, snapshot = await self._start(run, model, view)
        if run.trigger is Trigger.DRIFT and model.training.reuse_earlier:
            if await self._reuse(run, model, view, frame):
                return
        artifact = await self._train(run, model, frame)
        champion, champion_metrics = await self._measure_champion(run, model, view, frame)
        completion_id = uuid.uuid4().hex
        run.version = await self._register(
            run, model, view, frame, snapshot, artifact, champion, completion_id
        )
        await decide_alias(
            self.registry, run, model, champion is not None, champion_metrics, completion_id
        )
        await self._complete(run, completion_id)

    async def _start(
        self, run: Run, model: ModelSpec, view: FeatureViewSpec
    ) -> tuple[Frame, Snapshot]:
        """Take the run's snapshot and say the run is running."""
        frame, snapshot = await take_snapshot(
            self.store,
            run,
            model,
            view.name,
            view.version,
            poll_s=self.settings.poll_s,
            label_wait_s=self.settings.label_wait_s,
            clock=self.clock,
        )
        run.state, run.snapshot, run.started_at = RunState.RUNNING, snapshot, self.clock()
        self.store.save_run(run)
        await self.events.started(run)
        return frame, snapshot

    async def _train(self, run: Run, model: ModelSpec, frame: Frame) -> bytes:
        """Train in the worker process and measure on the holdout; the artifact."""
        X_train, y_train = frame.train
        if model.task == "classification" and len(np.unique(y_train)) < 2:
            raise RunFailed("not_enough_data", "the training rows have a single class")
        result = await self.trainer.train(
            TrainJob(
                task=model.task,
                feature_names=frame.feature_names,
                X=X_train,
                y=y_train,
                seed=run.seed,
                builtin=None if model.trainer.callable else model.trainer.builtin,
                callable=model.trainer.callable,
                params=dict(model.trainer.params),
                timeout_s=model.trainer.timeout_s,
                memory_mb=model.trainer.memory_mb,
                threads=self.settings.worker_threads,
            )
        )
        run.library_versions = result.library_versions
        run.metrics = await self._evaluate(result.artifact, *frame.holdout, model.task)
        return result.artifact

    async def _measure_champion(
        self, run: Run, model: ModelSpec, view: FeatureViewSpec, frame: Frame
    ) -> tuple[VersionInfo | None, dict[str, float] | None]:
        """The champion and its metrics on the same holdout (None: no
        champion, or one that cannot be compared)."""
        champion = await registry_call(self.registry.aliased(model.name, "champion"))
        if champion is None:
            return None, None
        run.champion_version = champion.version
        champion_metrics = await self._champion_metrics(
            champion, view.name, view.version, *frame.holdout, model.task
        )
        run.champion_metrics = champion_metrics or {}
        return champion, champion_metrics

    async def _register(
        self,
        run: Run,
        model: ModelSpec,
        view: FeatureViewSpec,
        frame: Frame,
        snapshot: Snapshot,
        artifact: bytes,
        champion: VersionInfo | None,
        completion_id: str,
    ) -> int:
        """Register the trained artifact with its reference profile; its version."""
        X_train, _ = frame.train
        predictions, _ = await asyncio.to_thread(self.scorer.predict, artifact, X_train, model.task)
        profile = training_profile(frame, predictions, view, model.task, self.settings.profile_bins)
        return await registry_call(
            self.registry.register(
                Registration(
                    model=model.name,
                    artifact=artifact,
                    task=model.task,
                    run_id=run.run_id,
                    snapshot_id=snapshot.snapshot_id,
                    parent_version=champion.version if champion else 0,
                    feature_view=view.name,
                    feature_view_version=view.version,
                    feature_width=len(frame.feature_names),
                    profile=profile,
                    caused_by_event_id=completion_id,
                    correlation_id=run.correlation_id,
                    metrics=run.metrics,
                    tags={
                        "trainer": run.trainer,
                        "seed": str(run.seed),
                        "trigger": run.trigger.name.lower(),
                        "drift_id": run.drift_id,
                    },
                    description=f"{run.trigger.name.lower()} run {run.run_id}",
                )
            )
        )

    async def _complete(self, run: Run, completion_id: str) -> None:
        run.state, run.finished_at = RunState.COMPLETED, self.clock()
        self.store.save_run(run)
        log.info(
            "training.completed",
            run_id=run.run_id,
            model=run.model,
            version=run.version,
            reused=run.reused,
            gate_passed=run.gate_passed,
            reason=run.gate_reason,
        )
        await self.events.completed(run, completion_id)

    async def _reuse(self, run: Run, model: ModelSpec, view: FeatureViewSpec, frame: Frame) -> bool:
        """Make an earlier version that beats the champion on the whole
        post-drift window (none of them trained on it) the candidate."""
        champion = await registry_call(self.registry.aliased(model.name, "champion"))
        if champion is None:
            return False
        X, y = frame.X, frame.y
        champion_metrics = await self._champion_metrics(
            champion, view.name, view.version, X, y, model.task
        )
        if not champion_metrics:
            return False
        found = await best_earlier(
            self.registry, self._evaluate, model, view, champion, champion_metrics, X, y
        )
        if found is None:
            return False
        run.reused, run.version, run.metrics = True, found.version, found.metrics
        run.champion_version, run.champion_metrics = champion.version, champion_metrics
        completion_id = uuid.uuid4().hex
        await decide_alias(self.registry, run, model, True, champion_metrics, completion_id)
        run.gate_reason = f"reused v{found.version} without training: {run.gate_reason}"
        await self._complete(run, completion_id)
        return True

    async def _evaluate(
        self, artifact: bytes, X: np.ndarray, y: np.ndarray, task: str
    ) -> dict[str, float]:
        label, probabilities = await asyncio.to_thread(self.scorer.predict, artifact, X, task)
        if task == "classification":
            return classification_metrics(y, label, probabilities)
        return regression_metrics(y, label)

    async def _champion_metrics(
        self,
        champion: VersionInfo,
        view: str,
        version: int,
        X: np.ndarray,
        y: np.ndarray,
        task: str,
    ) -> dict[str, float] | None:
        if champion.feature_view and (champion.feature_view, champion.feature_view_version) != (
            view,
            version,
        ):
            log.info("training.champion_not_comparable", champion=champion.version)
            return None
        try:
            artifact = await registry_call(self.registry.download(champion.model, champion.version))
            return await self._evaluate(artifact, X, y, task)
        except RunFailed:
            raise
        except Exception as exc:
            log.warning("training.champion_unscorable", error=repr(exc))
            return None
