"""Kafka subscribers: alias changes, rollouts and feature vectors."""

from __future__ import annotations

from driftloop.feature.v1.events_pb2 import FeatureVectorComputed
from driftloop.monitoring.v1.events_pb2 import RolloutStarted, RolloutStepped
from driftloop.platform.bus import Reject
from driftloop.platform.envelope import EventContext
from driftloop.platform.errors import InvalidArgument
from driftloop.registry.v1.events_pb2 import AliasChanged
from driftloop_serving.codec import converters
from driftloop_serving.service.lifecycle import Lifecycle
from driftloop_serving.service.stream import FeatureVector, StreamScorer


class Subscribers:
    def __init__(self, lifecycle: Lifecycle, scorer: StreamScorer) -> None:
        self.lifecycle = lifecycle
        self.scorer = scorer

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
        await self.lifecycle.rollout_started(event.model, event.rollout_id, share, mode)

    async def on_rollout_stepped(self, event: RolloutStepped, ctx: EventContext) -> None:
        share = _share(event.candidate_share)
        # Unspecified (older monitoring): the rollout keeps its mode.
        mode = converters.mode_of(event.mode) if event.mode else None
        await self.lifecycle.rollout_stepped(event.model, event.rollout_id, share, mode)

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
