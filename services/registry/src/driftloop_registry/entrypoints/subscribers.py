"""Kafka reactions: carry out monitoring's rollout decisions."""

from __future__ import annotations

from driftloop.monitoring.v1 import events_pb2 as monitoring_events
from driftloop.platform.bus import Reject
from driftloop.platform.envelope import EventContext
from driftloop.platform.errors import Conflict, InvalidArgument, NotFound
from driftloop_registry.domain.rollout import RolloutDecision
from driftloop_registry.service.registry import Registry

Verdict = monitoring_events.Verdict


def on_rollout_decided(registry: Registry):
    async def handle(event: monitoring_events.RolloutDecided, ctx: EventContext) -> None:
        if event.verdict not in (Verdict.VERDICT_PROMOTE, Verdict.VERDICT_ROLLBACK):
            raise Reject(f"verdict: {Verdict.Name(event.verdict)} is neither PROMOTE nor ROLLBACK")
        decision = RolloutDecision(
            model=event.model,
            promote=event.verdict == Verdict.VERDICT_PROMOTE,
            champion_version=event.champion.version,
            candidate_version=event.candidate.version,
            reason=event.reason,
            event_id=event.meta.event_id or ctx.id,
            correlation_id=event.meta.correlation_id or ctx.correlation_id,
        )
        try:
            await registry.apply_rollout(decision)
        except (Conflict, NotFound, InvalidArgument) as exc:
            # A stale or impossible decision never succeeds on retry.
            raise Reject(f"rollout decision not applied: {exc}") from exc

    return handle
