"""Publishes run transitions on ``driftloop.training`` (keyed by model) with
the causation chain of docs/CONTRACTS.md: Requested is caused by the drift
event (correlation = drift id); the later events are caused by Requested."""

from __future__ import annotations

from typing import cast

from driftloop.common.v1.common_pb2 import EventMeta
from driftloop.platform.bus import EventBus
from driftloop.training.v1 import events_pb2
from driftloop.training.v1.run_pb2 import Trigger
from driftloop_training.codec.converters import snapshot_to_proto, window_to_proto
from driftloop_training.domain.runs import Run


class BusRunEvents:
    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    def _meta(self, run: Run, event_id: str | None, caused_by: str) -> EventMeta:
        meta = self.bus.meta(event_id=event_id, caused_by=caused_by or None)
        meta.correlation_id = run.correlation_id or run.requested_event_id
        return meta

    async def requested(self, run: Run) -> None:
        event = events_pb2.TrainingRequested(
            meta=self._meta(run, run.requested_event_id, run.cause_id),
            run_id=run.run_id,
            model=run.model,
            trigger=cast(Trigger, int(run.trigger)),
            drift_id=run.drift_id,
            window=window_to_proto(run.window),
        )
        await self.bus.publish(event, key=run.model)

    async def started(self, run: Run) -> None:
        event = events_pb2.TrainingStarted(
            meta=self._meta(run, None, run.requested_event_id),
            run_id=run.run_id,
            model=run.model,
            drift_id=run.drift_id,
            snapshot=snapshot_to_proto(run.snapshot),
        )
        await self.bus.publish(event, key=run.model)

    async def completed(self, run: Run, event_id: str) -> None:
        event = events_pb2.TrainingCompleted(
            meta=self._meta(run, event_id, run.requested_event_id),
            run_id=run.run_id,
            model=run.model,
            drift_id=run.drift_id,
            version=run.version,
            gate_passed=run.gate_passed,
            gate_reason=run.gate_reason,
            metrics=run.metrics,
            champion_metrics=run.champion_metrics,
            champion_version=run.champion_version,
            snapshot_id=run.snapshot.snapshot_id if run.snapshot else "",
            reused=run.reused,
        )
        await self.bus.publish(event, key=run.model)

    async def failed(self, run: Run) -> None:
        event = events_pb2.TrainingFailed(
            meta=self._meta(run, None, run.requested_event_id),
            run_id=run.run_id,
            model=run.model,
            drift_id=run.drift_id,
            reason=run.error,
            failure_kind=run.failure_kind,
        )
        await self.bus.publish(event, key=run.model)
