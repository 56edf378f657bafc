"""Drift watch of one model: streaming detectors on the champion's loss and
predictions, a level check of its loss against its own baseline, and
windowed tests of recent features and predictions against the champion's
reference profile. Returns signals; the caller debounces."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from driftloop.platform.spec import DriftPolicy
from driftloop_monitoring.domain import windowed
from driftloop_monitoring.domain.debounce import drift_id
from driftloop_monitoring.domain.detectors import Change, StreamingDetector
from driftloop_monitoring.domain.events import DriftFound
from driftloop_monitoring.domain.level import LevelWatch
from driftloop_monitoring.domain.model import Histogram, VersionInfo

#: The detector name of the level check's alert: the champion is below its own gate.
BELOW_GATE = "below_gate"


@dataclass
class _Stream:
    """A detector plus, per value, when it happened and at which position."""

    detector: StreamingDetector
    marks: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=10_000))
    min_samples: int = 0

    def update(self, x: float, at: float, position: int) -> Change | None:
        self.marks.append((at, position))
        change = self.detector.update(x)
        # Too little evidence yet (the spec's min_samples): not a drift.
        return change if self.detector.position >= self.min_samples else None

    def mark(self, back: int) -> tuple[float, int]:
        back = min(max(back, 1), len(self.marks))
        return self.marks[-back]


class DriftWatch:
    """Watches the champion version of one model; reset when it changes."""

    def __init__(
        self,
        model: str,
        champion: VersionInfo | None,
        policy: DriftPolicy,
        *,
        margin: float = 0.02,
    ) -> None:
        self.model = model
        self.champion = champion
        self.policy = policy
        self.version = champion.version if champion else 0
        self.rearm()
        self.level = LevelWatch(policy.min_samples, margin)
        self.level_marks: deque[tuple[float, int]] = deque(maxlen=policy.min_samples)
        #: Where the last detected concept change began (kept across a re-arm).
        self.concept_start: tuple[float, int] | None = None
        #: Below-gate alerts sent for this champion (the caller's backoff).
        self.alerts = 0
        self.window: dict[str, list[float | str]] = {}
        self.window_preds: list[float] = []
        self.preds_start, self.preds_start_position = 0.0, 0
        self.window_rows = 0
        self.window_start = 0.0
        self.window_start_position = 0
        self.last_results: list[windowed.FeatureResult] = []
        # What is drifted now: a persisting shift is one change, not one per window.
        self.latched: set[str] = set()
        self.pred_latched = False
        self.on_window: Callable[[list[windowed.FeatureResult]], None] = lambda _: None

    def rearm(self) -> None:
        """Fresh change detectors: after a rollback the champion's loss may
        stay high, and a detector that already fired on it would wait for a
        change that will not come."""
        params = dict(self.policy.detector_params)
        self.loss = _Stream(StreamingDetector(self.policy.detector, params, increase_only=True))
        self.preds = _Stream(StreamingDetector(self.policy.detector, params))
        self.loss.min_samples = self.preds.min_samples = self.policy.min_samples

    def _found(self, kind: str, s: _Stream, c: Change, at: float) -> DriftFound:
        started_at, started_pos = s.mark(c.delay + 1)
        return DriftFound(
            drift_id=drift_id(self.model, self.version, kind, started_pos),
            model=self.model,
            version=self.version,
            kind=kind,
            detector=c.detector,
            statistic=c.after_mean,
            threshold=c.before_mean,
            change_started_at=started_at,
            change_started_position=started_pos,
            window_start=started_at,
            window_end=at,
            window_samples=c.delay + 1,
        )

    def on_loss(self, loss: float, at: float, position: int) -> list[DriftFound]:
        """A concept change of the loss, and a champion below its own gate."""
        out = []
        c = self.loss.update(loss, at, position)
        if c:
            found = self._found("concept", self.loss, c, at)
            self.concept_start = (found.change_started_at, found.change_started_position)
            out.append(found)
        self.level_marks.append((at, position))
        below = self.level.update(loss)
        if below:
            window_start, window_pos = self.level_marks[0]
            # A retrain after this alert learns from the change it follows, if known.
            started_at, started_pos = self.concept_start or (window_start, window_pos)
            out.append(
                DriftFound(
                    drift_id=drift_id(self.model, self.version, BELOW_GATE, window_pos),
                    model=self.model,
                    version=self.version,
                    kind="concept",
                    detector=BELOW_GATE,
                    statistic=below.current,
                    threshold=below.baseline + self.level.margin,
                    change_started_at=started_at,
                    change_started_position=started_pos,
                    window_start=window_start,
                    window_end=at,
                    window_samples=below.samples,
                )
            )
        return out

    def on_prediction(self, value: float, at: float, position: int) -> list[DriftFound]:
        c = self.preds.update(value, at, position)
        out = [self._found("prediction", self.preds, c, at)] if c else []
        if self.champion and self.champion.prediction:
            if not self.window_preds:
                self.preds_start, self.preds_start_position = at, position
            self.window_preds.append(value)
            if len(self.window_preds) >= max(self.policy.window, self.policy.min_samples):
                out += self._close_predictions(at)
        return out

    def on_features(
        self, names: tuple[str, ...], values: tuple[float, ...], at: float, position: int
    ) -> list[DriftFound]:
        """Add one feature vector; at the end of a window, run the tests."""
        if not self.champion or not self.champion.features:
            return []
        if self.window_rows == 0:
            self.window_start, self.window_start_position = at, position
        for name, value in zip(names, values, strict=False):
            self.window.setdefault(name, []).append(value)
        self.window_rows += 1
        if self.window_rows < max(self.policy.window, self.policy.min_samples):
            return []
        return self._close_window(self.champion.features, at)

    def _close_window(self, reference: tuple[Histogram, ...], at: float) -> list[DriftFound]:
        p = self.policy
        results = windowed.compare_all(
            reference, self.window, psi_threshold=p.psi_threshold, alpha=p.test_alpha
        )
        self.last_results = results
        self.on_window(results)
        out = []
        drifted = [r for r in results if r.drifted]
        names = {r.name for r in drifted}
        fresh = names - self.latched
        self.latched = names
        if fresh:
            top = max(drifted, key=lambda r: r.psi)
            out.append(
                DriftFound(
                    drift_id=drift_id(self.model, self.version, "data", self.window_start_position),
                    kind="data",
                    detector="psi",
                    statistic=top.psi,
                    threshold=p.psi_threshold,
                    features=tuple(results),
                    dataset_drift_share=len(drifted) / len(results),
                    model=self.model,
                    version=self.version,
                    change_started_at=self.window_start,
                    change_started_position=self.window_start_position,
                    window_start=self.window_start,
                    window_end=at,
                    window_samples=self.window_rows,
                )
            )
        self.window, self.window_rows = {}, 0
        return out

    def _close_predictions(self, at: float) -> list[DriftFound]:
        """Test the window's predictions against the reference's prediction histogram."""
        p, ref = self.policy, self.champion.prediction if self.champion else None
        values, self.window_preds = self.window_preds, []
        if ref is None:
            return []
        r = windowed.compare(ref, values, psi_threshold=p.psi_threshold, alpha=p.test_alpha)
        was, self.pred_latched = self.pred_latched, r.drifted
        if not r.drifted or was:
            return []
        return [
            DriftFound(
                drift_id=drift_id(
                    self.model, self.version, "prediction", self.preds_start_position
                ),
                model=self.model,
                version=self.version,
                kind="prediction",
                detector="psi",
                statistic=r.psi,
                threshold=p.psi_threshold,
                change_started_at=self.preds_start,
                change_started_position=self.preds_start_position,
                window_start=self.preds_start,
                window_end=at,
                window_samples=len(values),
                features=(r,),
            )
        ]
