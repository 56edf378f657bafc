"""Rollout use cases: start on a new candidate, feed both sides, judge, and
complete when the registry's aliases reflect the decision."""

from __future__ import annotations

import uuid

import structlog

from driftloop_monitoring.domain import canary
from driftloop_monitoring.domain.canary import Rollout
from driftloop_monitoring.domain.events import RolloutChanged, RolloutKind
from driftloop_monitoring.domain.model import CANDIDATE, CHAMPION, Joined, ModelState, Prediction
from driftloop_monitoring.domain.paired import CANDIDATE_SIDE, CHAMPION_SIDE
from driftloop_monitoring.domain.quality import sample_score
from driftloop_monitoring.service.policies import Policies
from driftloop_monitoring.service.ports import StateStore

log = structlog.get_logger(__name__)
_NS = uuid.UUID("0b7d3c2e-4a51-4f7e-8c55-2d6c1f0a9e31")


def _changed(kind: RolloutKind, r: Rollout, policy: canary.Policy, **kw: object) -> RolloutChanged:
    return RolloutChanged(
        kind=kind,
        rollout_id=r.rollout_id,
        model=r.model,
        champion=r.champion,
        candidate=r.candidate,
        mode=r.mode or policy.mode,
        share=r.share(policy),
        steps=policy.steps,
        correlation_id=r.correlation_id,
        # Deterministic, so a replay after a crash republishes the same event.
        event_id=uuid.uuid5(_NS, f"{r.rollout_id}/{kind}/{r.step}/{r.verdict}").hex,
        **kw,  # type: ignore[arg-type]
    )


class Rollouts:
    def __init__(self, store: StateStore, policies: Policies) -> None:
        self.store = store
        self.policies = policies
        self.active: dict[str, Rollout] = store.load_rollouts()

    def on_alias(
        self,
        state: ModelState,
        alias: str,
        version: int,
        previous: int,
        *,
        event_id: str,
        correlation_id: str,
        now: float,
    ) -> list[RolloutChanged]:
        """React to an alias change already applied to ``state``."""
        out: list[RolloutChanged] = []
        policy = self.policies.canary(state.name)
        r = self.active.get(state.name)
        if r and r.phase != "completed":
            promoted = alias == CHAMPION and version == r.candidate
            # A promotion is over when the candidate is champion (the registry may
            # delete the candidate alias first); anything else when it is gone.
            gone = alias == CANDIDATE and version != r.candidate and r.verdict != canary.PROMOTE
            if promoted or gone:
                verdict = canary.PROMOTE if promoted else canary.ROLLBACK
                r.phase, r.verdict = "completed", verdict
                self.store.save_rollout(r)
                out.append(
                    _changed(
                        RolloutKind.COMPLETED,
                        r,
                        policy,
                        verdict=verdict,
                        caused_by=event_id,
                        champion_now=state.champion,
                    )
                )
        if alias == CANDIDATE and version and state.champion and version != state.champion:
            if r and r.candidate == version and r.phase != "completed":
                return out  # redelivered alias change: the rollout runs already
            r = Rollout(
                rollout_id=f"{state.name}-v{version}-{event_id[:12]}",
                model=state.name,
                champion=state.champion,
                candidate=version,
                started_at=now,
                correlation_id=correlation_id or event_id,
                mode="canary" if policy.mode == "canary" else "shadow",
            )
            self.active[state.name] = r
            self.store.save_rollout(r)
            log.info("rollout.started", model=state.name, candidate=version, share=r.share(policy))
            started = _changed(RolloutKind.STARTED, r, policy, caused_by=event_id)
            r.started_event_id = started.event_id
            self.store.save_rollout(r)
            out.append(started)
        return out

    def running(self, model: str) -> bool:
        """Whether a rollout of the model is under way (not yet completed)."""
        r = self.active.get(model)
        return r is not None and r.phase != "completed"

    def on_prediction(self, p: Prediction) -> None:
        r = self.active.get(p.model)
        if r is None or r.phase not in ("started", "stepping"):
            return
        side = r.cand if p.version == r.candidate else r.champ if p.version == r.champion else None
        if side is not None:
            side.add_prediction(p.prediction, p.latency_ms)

    def on_joined(self, j: Joined, task: str, now: float) -> list[RolloutChanged]:
        p = j.prediction
        r = self.active.get(p.model)
        if r is None or r.phase not in ("started", "stepping"):
            return []
        side = r.cand if p.version == r.candidate else r.champ if p.version == r.champion else None
        if side is None:
            return []
        policy = self.policies.canary(p.model)
        score = sample_score(j, task, policy.metric)
        side.add_score(score)
        r.paired.add(p.record_id, CANDIDATE_SIDE if side is r.cand else CHAMPION_SIDE, score)
        if (r.cand.labelled + r.champ.labelled) % 10:
            return []
        return self._judge(r, policy, now)

    def tick(self, now: float) -> list[RolloutChanged]:
        out: list[RolloutChanged] = []
        for r in list(self.active.values()):
            if r.phase in ("started", "stepping"):
                out += self._judge(r, self.policies.canary(r.model), now)
        return out

    def _judge(self, r: Rollout, policy: canary.Policy, now: float) -> list[RolloutChanged]:
        v = canary.judge(
            r.cand,
            r.champ,
            policy,
            labelled_at_last_step=r.labelled_at_last_step,
            elapsed_s=now - r.started_at,
            paired=r.paired,
            quick_step=r.ramp_ready(policy),
        )
        if v is None:
            r.last_evidence = canary.evidence(r.cand, r.champ, policy)[0]
            return []
        action = r.advance(v, policy)
        self.store.save_rollout(r)
        log.info("rollout.verdict", model=r.model, action=action, reason=v.reason)
        if action == canary.STEP:
            return [
                _changed(
                    RolloutKind.STEPPED,
                    r,
                    policy,
                    reason=v.reason,
                    evidence=v.evidence,
                    caused_by=r.started_event_id,
                )
            ]
        decided = _changed(
            RolloutKind.DECIDED,
            r,
            policy,
            verdict=action,
            reason=v.reason,
            evidence=v.evidence,
            caused_by=r.started_event_id,
        )
        r.decided_event_id = decided.event_id
        self.store.save_rollout(r)
        return [decided]
