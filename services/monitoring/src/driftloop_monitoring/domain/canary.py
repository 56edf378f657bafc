"""The canary judge: a candidate against the champion on traffic of the same
period.

Guard rails first (no labels needed, once both sides made
``min_predictions``): the candidate's error rate, and, once both sides made
``min_latency_samples``, its latency p99 against the champion's. Then, with
``min_labelled`` labelled predictions per side, a one-sided non-inferiority
z-test on the per-prediction score of the chosen metric (for accuracy this is
the unpooled two-proportion test):

- candidate not worse than champion minus ``margin`` at ``alpha`` → pass
  (step up, or promote after the last step);
- candidate significantly worse than champion minus ``margin`` → roll back;
- otherwise keep gathering; with no verdict by ``timeout_s`` → roll back.

Label evidence outranks the label-free prediction-PSI guard rail: a concept
drift that moves the class balance is exactly when a correct candidate
predicts differently. The PSI (less what two samples of one distribution
show by chance at these sizes) therefore never rolls back on its own: it
rolls back only once both sides have ``min_labelled`` labelled predictions
and the labels still do not show the candidate not worse.

Evidence accumulates over the whole rollout; a step up needs ``min_labelled``
new candidate samples since the previous step.

When both sides scored the same labelled records (shadow mode mirrors every
request), the verdict uses the paired test instead (:mod:`.paired`; McNemar
for accuracy) once ``min_labelled`` records are paired.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from driftloop_monitoring.domain.paired import Paired
from driftloop_monitoring.domain.windowed import psi

STEP, PROMOTE, ROLLBACK = "step", "promote", "rollback"


@dataclass
class Side:
    """What one side (champion or candidate) showed during the rollout."""

    predictions: int = 0
    errors: int = 0
    labelled: int = 0
    score_sum: float = 0.0
    score_sq: float = 0.0
    latencies: list[float] = field(default_factory=list)
    classes: dict[str, int] = field(default_factory=dict)

    def add_prediction(self, value: float, latency_ms: float, *, max_latencies: int = 2000) -> None:
        self.predictions += 1
        if not math.isfinite(value):
            self.errors += 1
            return
        if len(self.latencies) < max_latencies:
            self.latencies.append(latency_ms)
        key = _bucket(value)
        self.classes[key] = self.classes.get(key, 0) + 1

    def add_score(self, score: float) -> None:
        self.labelled += 1
        self.score_sum += score
        self.score_sq += score * score

    @property
    def mean(self) -> float:
        return self.score_sum / self.labelled if self.labelled else math.nan

    @property
    def var(self) -> float:
        if self.labelled < 2:
            return math.nan
        return max(0.0, (self.score_sq - self.labelled * self.mean**2) / (self.labelled - 1))

    @property
    def error_rate(self) -> float:
        return self.errors / self.predictions if self.predictions else 0.0

    @property
    def p99(self) -> float:
        return float(np.percentile(self.latencies, 99)) if self.latencies else 0.0


def _bucket(value: float) -> str:
    # Classes stay themselves; regression values share coarse log-spaced buckets.
    if float(value).is_integer() and abs(value) < 1000:
        return str(int(value))
    return f"{math.copysign(round(math.log1p(abs(value)), 1), value)}"


@dataclass(frozen=True)
class Policy:
    steps: tuple[float, ...] = (0.1, 0.5, 1.0)
    min_labelled: int = 200
    metric: str = "accuracy"
    margin: float = 0.02
    alpha: float = 0.05
    timeout_s: float = 600.0
    max_error_rate: float = 0.01
    max_latency_p99_ratio: float = 3.0
    #: A latency ratio only counts when the candidate is also this much slower:
    #: sub-millisecond p99s of a freshly loaded model can differ by any ratio.
    min_latency_excess_ms: float = 20.0
    #: Predictions per side before the latency guard acts: a p99 of fewer is
    #: the slowest call or two (one garbage collection, one busy second of a
    #: shared machine); seen rolling back a candidate whose labels showed it
    #: 0.925 vs 0.485 accurate, on 40 predictions.
    min_latency_samples: int = 200
    min_predictions: int = 30
    max_prediction_psi: float = 2.0
    mode: str = "canary"


@dataclass(frozen=True)
class Evidence:
    metric: str
    candidate_value: float
    champion_value: float
    candidate_samples: int
    champion_samples: int
    statistic: float
    p_value: float
    margin: float
    candidate_error_rate: float
    candidate_latency_p99_ms: float
    champion_latency_p99_ms: float
    prediction_psi: float


@dataclass(frozen=True)
class Verdict:
    action: str  # step, promote, rollback
    reason: str
    evidence: Evidence


def prediction_psi(a: Side, b: Side) -> float:
    keys = sorted(set(a.classes) | set(b.classes))
    if not keys:
        return 0.0
    return psi(
        np.array([b.classes.get(k, 0) for k in keys], dtype=float),
        np.array([a.classes.get(k, 0) for k in keys], dtype=float),
    )


def psi_noise(a: Side, b: Side, *, quantile: float = 0.999) -> float:
    """How large the PSI of two samples of one distribution gets by chance.

    PSI is the symmetric Kullback-Leibler divergence; for samples of sizes
    n1 and n2 over k classes, PSI / (1/n1 + 1/n2) is approximately
    chi-squared with k - 1 degrees of freedom. This is its ``quantile``.

    >>> s = Side(classes={"0": 30, "1": 30})
    >>> round(psi_noise(s, s), 3)  # 60 predictions per side: chance alone reaches 0.36
    0.361
    """
    k = len(set(a.classes) | set(b.classes))
    n1, n2 = sum(a.classes.values()), sum(b.classes.values())
    if k < 2 or not n1 or not n2:
        return 0.0
    from scipy import stats  # a second of CPU to import: at the first verdict, not at start

    return float(stats.chi2.ppf(quantile, k - 1)) * (1 / n1 + 1 / n2)


def evidence(cand: Side, champ: Side, policy: Policy) -> tuple[Evidence, float, float]:
    """The numbers, plus the p-values of non-inferiority and of inferiority."""
    z, p_ok, p_bad = math.nan, 1.0, 1.0
    if cand.labelled >= 2 and champ.labelled >= 2:
        se = math.sqrt(cand.var / cand.labelled + champ.var / champ.labelled)
        diff = cand.mean - champ.mean + policy.margin
        if se > 0:
            from scipy import stats  # a second of CPU to import: at the first verdict

            z = diff / se
            p_ok, p_bad = float(stats.norm.sf(z)), float(stats.norm.cdf(z))
        else:
            z = math.copysign(math.inf, diff) if diff else 0.0
            p_ok, p_bad = (0.0, 1.0) if diff > 0 else (1.0, 0.0 if diff < 0 else 1.0)
    sign = 1.0 if policy.metric in ("accuracy", "roc_auc") else -1.0
    ev = Evidence(
        metric=policy.metric,
        candidate_value=sign * cand.mean if cand.labelled else 0.0,
        champion_value=sign * champ.mean if champ.labelled else 0.0,
        candidate_samples=cand.labelled,
        champion_samples=champ.labelled,
        statistic=z if math.isfinite(z) else 0.0,
        p_value=p_ok,
        margin=policy.margin,
        candidate_error_rate=cand.error_rate,
        candidate_latency_p99_ms=cand.p99,
        champion_latency_p99_ms=champ.p99,
        prediction_psi=prediction_psi(cand, champ),
    )
    return ev, p_ok, p_bad


def judge(
    cand: Side,
    champ: Side,
    policy: Policy,
    *,
    labelled_at_last_step: int,
    elapsed_s: float,
    paired: Paired | None = None,
    quick_step: bool = False,
) -> Verdict | None:
    """The verdict now, or None to keep gathering. ``quick_step``: the labels
    already vouched for the candidate (shadow_then_canary), so a step needs
    no new labelled samples."""
    ev, p_ok, p_bad = evidence(cand, champ, policy)
    test = ""
    enough = cand.labelled >= policy.min_labelled and champ.labelled >= policy.min_labelled
    if paired is not None and paired.pairs >= policy.min_labelled:
        z, p_ok, p_bad = paired.test(policy.margin)
        ev = replace(ev, statistic=z if math.isfinite(z) else 0.0, p_value=p_ok)
        test, enough = f"paired, {paired.discordant}/{paired.pairs} discordant, ", True
    guards = cand.predictions >= policy.min_predictions
    guards_vs = guards and champ.predictions >= policy.min_predictions
    if guards and ev.candidate_error_rate > policy.max_error_rate:
        return Verdict(ROLLBACK, f"candidate error rate {ev.candidate_error_rate:.3f}", ev)
    timed = min(len(cand.latencies), len(champ.latencies)) >= policy.min_latency_samples
    if guards_vs and timed and ev.champion_latency_p99_ms > 0:
        ratio = ev.candidate_latency_p99_ms / ev.champion_latency_p99_ms
        excess = ev.candidate_latency_p99_ms - ev.champion_latency_p99_ms
        if ratio > policy.max_latency_p99_ratio and excess > policy.min_latency_excess_ms:
            return Verdict(ROLLBACK, f"candidate latency p99 {ratio:.1f}x the champion's", ev)
    if enough and p_bad < policy.alpha:
        return Verdict(ROLLBACK, f"candidate worse on {policy.metric} ({test}p={p_bad:.3g})", ev)
    fresh = quick_step or cand.labelled - labelled_at_last_step >= policy.min_labelled
    if enough and p_ok < policy.alpha:
        if fresh:
            reason = f"candidate not worse on {policy.metric} ({test}p={p_ok:.3g})"
            return Verdict(STEP, reason, ev)
        # The labels vouch for the candidate: no label-free guard rail overrides them.
    elif guards_vs and enough:
        limit = policy.max_prediction_psi + psi_noise(cand, champ)
        if ev.prediction_psi > limit:
            return Verdict(
                ROLLBACK,
                f"prediction distribution PSI {ev.prediction_psi:.2f} > {limit:.2f} and "
                f"the labels do not show the candidate not worse (p={p_ok:.3g})",
                ev,
            )
    if elapsed_s >= policy.timeout_s:
        return Verdict(ROLLBACK, f"no verdict within {policy.timeout_s:g}s", ev)
    return None


@dataclass
class Rollout:
    """One candidate's rollout, from start to completion."""

    rollout_id: str
    model: str
    champion: int
    candidate: int
    started_at: float
    correlation_id: str = ""
    started_event_id: str = ""
    step: int = 0
    phase: str = "started"  # started, stepping, decided, completed
    verdict: str = ""
    labelled_at_last_step: int = 0
    cand: Side = field(default_factory=Side)
    champ: Side = field(default_factory=Side)
    last_evidence: Evidence | None = None
    decided_event_id: str = ""
    paired: Paired = field(default_factory=Paired)
    #: Traffic mode now: shadow or canary (a shadow_then_canary rollout starts
    #: in shadow and ramps the canary once the paired test passed).
    mode: str = ""
    ramping: bool = False
    predictions_at_last_step: int = 0

    def ramp_ready(self, policy: Policy) -> bool:
        """A ramping canary may step once the candidate made ``min_predictions``
        more predictions (the guard rails' evidence) at the current share."""
        fresh = self.cand.predictions - self.predictions_at_last_step
        return self.ramping and fresh >= policy.min_predictions

    def share(self, policy: Policy) -> float:
        return policy.steps[min(self.step, len(policy.steps) - 1)]

    def advance(self, verdict: Verdict, policy: Policy) -> str:
        """Apply a verdict: ``step`` (share raised), ``promote`` or ``rollback``."""
        self.last_evidence = verdict.evidence
        if verdict.action == STEP:
            mode = self.mode or policy.mode
            if mode == "shadow" and policy.mode == "shadow_then_canary":
                # The paired test passed in shadow: the canary ramps from its first step.
                self.mode, self.ramping, nxt = "canary", True, self.step
                last = policy.steps[nxt] >= 1.0
            else:
                nxt = self.step + 1
                last = nxt >= len(policy.steps) or policy.steps[nxt] >= 1.0
            if (mode == "shadow" and policy.mode == "shadow") or last:
                self.phase, self.verdict = "decided", PROMOTE
                return PROMOTE
            self.step = nxt
            self.phase = "stepping"
            self.labelled_at_last_step = self.cand.labelled
            self.predictions_at_last_step = self.cand.predictions
            return STEP
        self.phase, self.verdict = "decided", ROLLBACK
        return ROLLBACK
