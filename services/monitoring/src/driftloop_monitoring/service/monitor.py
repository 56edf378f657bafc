"""The monitoring use cases: one object the Kafka subscribers, the timer and
the gRPC servicer call. It joins predictions to labels, keeps quality per
version and role, watches the champion for drift, debounces drift per model
and runs rollouts. Every method returns the facts to announce."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from driftloop_monitoring.domain.canary import ROLLBACK, Rollout
from driftloop_monitoring.domain.debounce import Debouncer
from driftloop_monitoring.domain.events import DriftFound, RolloutChanged, RolloutKind
from driftloop_monitoring.domain.join import LabelJoin
from driftloop_monitoring.domain.model import (
    CANDIDATE,
    CHAMPION,
    Joined,
    Label,
    ModelState,
    Prediction,
    VersionInfo,
)
from driftloop_monitoring.domain.quality import QualityWindow, loss
from driftloop_monitoring.domain.windowed import FeatureResult
from driftloop_monitoring.service.drift import BELOW_GATE, DriftWatch
from driftloop_monitoring.service.metrics import Metrics, NullMetrics
from driftloop_monitoring.service.policies import Policies
from driftloop_monitoring.service.ports import StateStore
from driftloop_monitoring.service.rollouts import Rollouts

log = structlog.get_logger(__name__)
Fact = DriftFound | RolloutChanged


@dataclass
class _Runtime:
    """Per-model state that is rebuilt from the stream after a restart."""

    watch: DriftWatch
    positions: int = 0  # champion predictions seen
    quality: dict[tuple[int, str], QualityWindow] = field(default_factory=dict)
    seen: OrderedDict[str, None] = field(default_factory=OrderedDict)  # feature dedupe
    recent_drift: deque[DriftFound] = field(default_factory=lambda: deque(maxlen=20))
    lags: deque[float] = field(default_factory=lambda: deque(maxlen=2000))
    predicted: dict[tuple[int, str], int] = field(default_factory=dict)


class Monitor:
    def __init__(
        self,
        store: StateStore,
        policies: Policies,
        *,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
        quality_window: int = 1000,
        recent_drift_kept: int = 20,
    ) -> None:
        self.store = store
        self.policies = policies
        self.metrics = metrics or NullMetrics()
        self.clock = clock
        self.quality_window = quality_window
        self.recent_drift_kept = recent_drift_kept
        self.models: dict[str, ModelState] = store.load_models()
        self.join = LabelJoin(policies.label_wait, store.buffer)
        self.debounce = Debouncer(store.load_cooldowns())
        self.rollouts = Rollouts(store, policies)
        self._rt: dict[str, _Runtime] = {}

    # -- catalog -----------------------------------------------------------
    def model(self, name: str) -> ModelState:
        if name not in self.models:
            self.models[name] = ModelState(name)
        return self.models[name]

    def runtime(self, name: str) -> _Runtime:
        """The model's runtime state; its drift watch follows the champion."""
        rt = self._rt.get(name)
        if rt is None:
            rt = self._rt[name] = _Runtime(self._watch(name))
            rt.recent_drift = deque(maxlen=self.recent_drift_kept)
        elif rt.watch.version != self.model(name).champion:
            rt.watch = self._watch(name)
        return rt

    def _watch(self, name: str) -> DriftWatch:
        info = self.model(name).versions.get(self.model(name).champion)
        margin = self.policies.canary(name).margin
        watch = DriftWatch(name, info, self.policies.drift(name), margin=margin)

        def on_window(results: list[FeatureResult]) -> None:
            for r in results:
                self.metrics.feature_drift(name, r.name, r.psi, r.statistic)

        watch.on_window = on_window
        return watch

    def on_version(self, info: VersionInfo) -> None:
        state = self.model(info.model)
        state.versions[info.version] = info
        self.store.save_model(state)
        if info.version == state.champion and info.model in self._rt:
            # The champion's reference profile may come after its alias.
            self._rt[info.model].watch = self._watch(info.model)

    def on_alias(
        self,
        model: str,
        alias: str,
        version: int,
        previous: int,
        *,
        info: VersionInfo | None = None,
        event_id: str = "",
        correlation_id: str = "",
        sequence: int = 0,
    ) -> list[Fact]:
        state = self.model(model)
        if info is not None and info.version not in state.versions:
            state.versions[info.version] = info
        if not state.newer(alias, sequence):
            log.info("alias.stale_event_ignored", model=model, alias=alias, sequence=sequence)
            return []
        if alias == CHAMPION:
            state.champion = version
        elif alias == CANDIDATE:
            state.candidate = version
        self.store.save_model(state)
        log.info("alias.seen", model=model, alias=alias, version=version, previous=previous)
        facts = self.rollouts.on_alias(
            state,
            alias,
            version,
            previous,
            event_id=event_id,
            correlation_id=correlation_id,
            now=self.clock(),
        )
        if any(f.kind == RolloutKind.COMPLETED and f.verdict == ROLLBACK for f in facts):
            # The champion stays, measured worse than its candidate: detect afresh.
            self.runtime(model).watch.rearm()
        return list(facts)

    # -- the stream ----------------------------------------------------------
    def on_prediction(self, p: Prediction) -> list[Fact]:
        now = self.clock()
        joined: list[Joined] = []
        if p.joinable:
            dupes = self.join.counts.duplicates
            joined = self.join.add_prediction(p, now)
            if self.join.counts.duplicates != dupes:
                return []  # one prediction per (record id, model, version)
        else:
            # No label will ever carry its id: counted, never held for a join.
            self.metrics.unjoinable(p.model)
        state = self.model(p.model)
        out: list[Fact] = []
        role = p.role or state.role_of(p.version)
        self.metrics.prediction(p.model, p.version, role)
        counts = self.runtime(p.model).predicted
        counts[(p.version, role)] = counts.get((p.version, role), 0) + 1
        self.rollouts.on_prediction(p)
        if p.version == state.champion:
            rt = self.runtime(p.model)
            rt.positions += 1
            out += self._admit_all(rt.watch.on_prediction(p.prediction, p.at or now, rt.positions))
            if p.features and self._first_sight(rt, p.record_id):
                out += self._admit_all(
                    rt.watch.on_features(p.feature_names, p.features, p.at or now, rt.positions)
                )
        for j in joined:
            out += self._on_joined(j, now)
        return out

    def on_features(
        self,
        record_id: str,
        view: str,
        names: tuple[str, ...],
        values: tuple[float, ...],
        at: float,
    ) -> list[Fact]:
        """A feature vector: data drift for every model whose champion uses the view."""
        out: list[Fact] = []
        for state in self.models.values():
            info = state.versions.get(state.champion)
            if info is None or info.feature_view != view:
                continue
            rt = self.runtime(state.name)
            if self._first_sight(rt, record_id):
                out += self._admit_all(rt.watch.on_features(names, values, at, rt.positions))
        return out

    def on_label(self, label: Label) -> list[Fact]:
        now = self.clock()
        out: list[Fact] = []
        for j in self.join.add_label(label, now):
            out += self._on_joined(j, now)
        return out

    def tick(self) -> list[Fact]:
        """Age out unmatched predictions and labels; time out rollouts."""
        now = self.clock()
        before = (self.join.counts.unmatched_predictions, self.join.counts.unmatched_labels)
        self.join.expire(now)
        self.metrics.unmatched("predictions", self.join.counts.unmatched_predictions - before[0])
        self.metrics.unmatched("labels", self.join.counts.unmatched_labels - before[1])
        return list(self.rollouts.tick(now))

    def _on_joined(self, j: Joined, now: float) -> list[Fact]:
        p = j.prediction
        state = self.model(p.model)
        info = state.versions.get(p.version)
        task = info.task if info else "classification"
        role = p.role or state.role_of(p.version)
        rt = self.runtime(p.model)
        q = rt.quality.get((p.version, role))
        if q is None:
            q = rt.quality[(p.version, role)] = QualityWindow(task, self.quality_window)
        q.add(j)
        rt.lags.append(j.lag_s)
        self.metrics.labelled(p.model, p.version, role, j.lag_s)
        if q.labelled % 500 == 0:
            self.metrics.quality(p.model, p.version, role, q.metrics())
        out: list[Fact] = list(self.rollouts.on_joined(j, task, now))
        if p.version == state.champion:
            at = max(p.at, j.label.at) or now
            out += self._admit_all(rt.watch.on_loss(loss(j, task), at, rt.positions))
        return out

    def _first_sight(self, rt: _Runtime, record_id: str) -> bool:
        # Features arrive from both the feature stream and predictions: count once.
        if record_id in rt.seen:
            return False
        rt.seen[record_id] = None
        if len(rt.seen) > 50_000:
            rt.seen.popitem(last=False)
        return True

    def _admit_all(self, found: list[DriftFound]) -> list[Fact]:
        return [f for d in found for f in self._admit(d)]

    def _admit(self, d: DriftFound | None) -> list[Fact]:
        if d is None:
            return []
        cooldown = self.policies.drift(d.model).cooldown_s
        watch = self.runtime(d.model).watch
        if d.detector == BELOW_GATE:
            if self.rollouts.running(d.model):
                return []  # a candidate is being judged: its verdict comes first
            # Retry with backoff: the cooldown doubles with each alert (up to 16x).
            cooldown *= 2 ** min(watch.alerts, 4)
        # One cooldown per model and kind: an early data-drift warning must not
        # hide the concept drift that follows it (only the latter retrains).
        key = f"{d.model}/{d.kind}"
        if not self.debounce.admit(key, d.window_end, cooldown_s=cooldown):
            log.info("drift.suppressed", model=d.model, kind=d.kind, detector=d.detector)
            return []
        if d.detector == BELOW_GATE:
            watch.alerts += 1
            log.warning(
                "champion.below_gate",
                model=d.model,
                version=d.version,
                loss=d.statistic,
                gate=d.threshold,
                alerts=watch.alerts,
            )
        self.store.save_cooldown(key, d.window_end)
        self.runtime(d.model).recent_drift.append(d)
        self.metrics.drift(d.model, d.kind, d.detector)
        log.info("drift.detected", model=d.model, kind=d.kind, drift_id=d.drift_id)
        return [d]

    # -- lifecycle and reads ---------------------------------------------------
    def flush(self) -> None:
        """Make the state durable (before input offsets are committed)."""
        for r in self.rollouts.active.values():
            if r.phase in ("started", "stepping"):
                self.store.save_rollout(r)
        self.store.flush()

    def report_rollout(self, change: RolloutChanged) -> None:
        if change.kind == RolloutKind.DECIDED:
            self.metrics.verdict(change.model, change.verdict)
        r = self.rollouts.active.get(change.model)
        if r is None:
            return
        ev = r.last_evidence
        share = r.share(self.policies.canary(r.model))
        self.metrics.canary(
            r.model,
            r.phase,
            share,
            ev.candidate_value if ev else 0.0,
            ev.champion_value if ev else 0.0,
        )

    def health(self, model: str) -> ModelHealth:
        """What monitoring knows about a model (raises KeyError if nothing)."""
        if model not in self.models:
            raise KeyError(model)
        state = self.models[model]
        rt = self.runtime(model)
        keys = sorted(set(rt.quality) | set(rt.predicted))
        versions = [
            VersionHealth(
                version=v,
                role=role,
                predictions=rt.predicted.get((v, role), 0),
                labelled=rt.quality[(v, role)].labelled if (v, role) in rt.quality else 0,
                metrics=rt.quality[(v, role)].metrics() if (v, role) in rt.quality else {},
            )
            for v, role in keys
        ]
        lags = sorted(rt.lags)
        return ModelHealth(
            model=model,
            champion=state.champion,
            candidate=state.candidate,
            versions=versions,
            features=list(rt.watch.last_results),
            recent_drift=list(rt.recent_drift),
            lag_p50=lags[len(lags) // 2] if lags else 0.0,
            unmatched_predictions=self.join.counts.unmatched_predictions,
            unmatched_labels=self.join.counts.unmatched_labels,
        )

    def rollout(self, model: str) -> Rollout | None:
        return self.rollouts.active.get(model)


@dataclass(frozen=True)
class VersionHealth:
    version: int
    role: str
    predictions: int
    labelled: int
    metrics: dict[str, float]


@dataclass(frozen=True)
class ModelHealth:
    model: str
    champion: int
    candidate: int
    versions: list[VersionHealth]
    features: list[FeatureResult]
    recent_drift: list[DriftFound]
    lag_p50: float
    unmatched_predictions: int
    unmatched_labels: int
