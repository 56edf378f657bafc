"""Kafka subscribers: alias changes, rollouts and pins, and feature vectors."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import structlog
from google.protobuf.message import Message

from driftloop.feature.v1.events_pb2 import FeatureVectorComputed
from driftloop.monitoring.v1.events_pb2 import RolloutCompleted, RolloutStarted, RolloutStepped
from driftloop.platform.bus import Handler, Reject
from driftloop.platform.envelope import EventContext
from driftloop.platform.errors import InvalidArgument
from driftloop.registry.v1.events_pb2 import AliasChanged
from driftloop.serving.v1.events_pb2 import TrafficSplitPinned
from driftloop_serving.codec import converters
from driftloop_serving.service.lifecycle import Lifecycle
from driftloop_serving.service.rollouts import Rollouts
from driftloop_serving.service.stream import FeatureVector, StreamScorer

log = structlog.get_logger(__name__)


class Subscribers:
    def __init__(self, lifecycle: Lifecycle, rollouts: Rollouts, scorer: StreamScorer) -> None:
        self.lifecycle = lifecycle
        self.rollouts = rollouts
        self.scorer = scorer
        #: The rollout events serving follows, and their handlers.
        self.rollout_handlers: dict[type[Message], Handler[Any]] = {
            RolloutStarted: self.on_rollout_started,
            RolloutStepped: self.on_rollout_stepped,
            RolloutCompleted: self.on_rollout_completed,
            TrafficSplitPinned: self.on_traffic_split_pinned,
        }

    async def on_alias_changed(self, event: AliasChanged, ctx: EventContext) -> None:
        info = (
            converters.version_info(event.model_version)
            if event.HasField("model_version")
            else None
        )
        await self.lifecycle.alias_changed(
            event.model, event.alias, event.version, info, event.sequence
        )

    async def on_rollout_started(self, event: RolloutStarted, ctx: EventContext) -> None:
        share = _share(event.candidate_share)
        mode = converters.mode_of(event.mode)
        self.rollouts.started(event.model, event.rollout_id, share, mode, ctx.offset)

    async def on_rollout_stepped(self, event: RolloutStepped, ctx: EventContext) -> None:
        share = _share(event.candidate_share)
        # Unspecified (older monitoring): the rollout keeps its mode.
        mode = converters.mode_of(event.mode) if event.mode else None
        self.rollouts.stepped(event.model, event.rollout_id, share, mode, ctx.offset)

    async def on_rollout_completed(self, event: RolloutCompleted, ctx: EventContext) -> None:
        self.rollouts.completed(event.model, event.rollout_id, ctx.offset)

    async def on_traffic_split_pinned(self, event: TrafficSplitPinned, ctx: EventContext) -> None:
        if not event.pinned:
            self.rollouts.cleared(event.model, ctx.offset)
            return
        share = _share(event.candidate_share)
        self.rollouts.pinned(event.model, share, converters.mode_of(event.mode), ctx.offset)

    async def recover_rollouts(self, events: Iterable[tuple[Message, EventContext]]) -> None:
        """Apply rollout events read back from the log at start, in order. One
        that cannot apply is skipped (its live delivery dead-letters it)."""
        for event, ctx in events:
            try:
                await self.rollout_handlers[type(event)](event, ctx)
            except (Reject, InvalidArgument) as exc:
                log.warning("rollout.recovery_skipped_event", offset=ctx.offset, reason=str(exc))

    async def on_feature_vector(self, event: FeatureVectorComputed, ctx: EventContext) -> None:
        vector = FeatureVector(
            event.meta.event_id or ctx.id,
            event.record_id,
            event.entity_id,
            event.view,
            event.view_version,
            tuple(event.feature_names),
            tuple(event.values),
        )
        try:
            await self.scorer.score(vector)
        except InvalidArgument as exc:
            raise Reject(str(exc)) from None


def _share(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise Reject(f"candidate_share {value} is not in [0, 1]")
    return value
