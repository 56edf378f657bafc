"""The use case that turns records into vectors: it owns the partition states,
publishes outcomes, feeds the online store, and checkpoints.

Restarts: state is checkpointed (with the offset it reflects) every
``checkpoint_interval_s`` and at stop — incrementally: a snapshot of the
entities changed since the last checkpoint is taken on the event loop and
written by the store off it — and the gap between a checkpoint and
the consumer's committed position is rebuilt by replaying that stretch of the
partition without publishing. Outcomes are published (and acknowledged) before
the consumer commits, so a crash at any point ends with every vector published
at least once, with the values an uninterrupted run computes.

A partition state is only trusted in the log it was read from: one that names
another cluster id, or claims offsets beyond the partition's end (a reset
broker, a recreated topic), is dropped and rebuilt from what the log holds —
checked when a checkpoint is loaded and when a record already applied comes
again (which is also what a reset log under a running process looks like).
"""

from __future__ import annotations

import time
from collections import Counter as CounterOf
from collections.abc import Callable

import structlog
from prometheus_client import Counter

from driftloop.platform.rebuilds import BEYOND_LOG_END, OTHER_CLUSTER, STATE_REBUILDS
from driftloop_feature.domain.model import Record, Rejection, Vector
from driftloop_feature.domain.partition import PartitionState
from driftloop_feature.domain.views import CompiledView
from driftloop_feature.service.ports import (
    CheckpointStore,
    OnlineEntry,
    OnlineStore,
    Publisher,
    Replayer,
)

log = structlog.get_logger(__name__)

VECTORS = Counter("driftloop_feature_vectors_total", "Feature vectors computed", ["view"])
REJECTED = Counter(
    "driftloop_feature_rejected_total", "Records a view could not compute", ["view", "reason"]
)
REPLAYED = Counter("driftloop_feature_replayed_total", "Records re-applied to rebuild state")
EVICTED = Counter(
    "driftloop_feature_entities_evicted_total",
    "Entity states forgotten: reason ttl (entity_ttl_s) or max_entities",
    ["view", "reason"],
)
#: Evictions are logged as one summary line at most this often.
EVICTION_LOG_INTERVAL_S = 60.0


class FeatureProcessor:
    """Applies records to per-partition state; see the module docstring."""

    def __init__(
        self,
        views: list[CompiledView],
        publisher: Publisher,
        store: OnlineStore,
        checkpoints: CheckpointStore,
        replayer: Replayer,
        *,
        checkpoint_interval_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.views = views
        self._publisher = publisher
        self._store = store
        self._checkpoints = checkpoints
        self._replayer = replayer
        self._interval = checkpoint_interval_s
        self._clock = clock
        self._states: dict[int, PartitionState] = {}
        self._vectors: dict[str, int] = {}
        self._online: dict[tuple[str, str], OnlineEntry] = {}
        self._batch: set[int] = set()
        self._dirty: set[int] = set()
        self._verified: set[int] = set()
        self._last_checkpoint = clock()
        self._evicted: CounterOf[tuple[str, str]] = CounterOf()
        self._evictions_logged = clock()
        #: The id of the log records are read from (set once it is known).
        self.log_id = ""

    async def handle(self, record: Record, partition: int, offset: int) -> None:
        """Apply the record at (partition, offset) and publish its outcomes."""
        state = await self._state_for(partition, offset)
        if state.applied(offset):
            if partition in self._verified:
                return  # redelivered: its outcomes were published before
            self._verified.add(partition)  # one look at the log per batch
            if not await self._rebuilt_if_foreign(state):
                return
            state = await self._state_for(partition, offset)
        self._batch.add(partition)
        try:
            for outcome in state.apply(record, offset):
                if isinstance(outcome, Vector):
                    self._publisher.vector(outcome)
                    self._remember(outcome, partition)
                    self._vectors[outcome.view] = self._vectors.get(outcome.view, 0) + 1
                else:
                    self._publisher.rejection(outcome)
                    self._rejected(outcome)
        except BaseException:
            self._states.pop(partition, None)  # half-applied: rebuild on next use
            raise

    async def flush(self) -> None:
        """End of a batch: wait for every acknowledgement, update the online
        store, checkpoint when due. Raises (and forgets the touched partitions'
        state) when a publish failed, so the batch is read again."""
        batch, self._batch = self._batch, set()
        self._verified.clear()
        try:
            await self._publisher.flush()
        except BaseException:
            for partition in batch:
                self._states.pop(partition, None)
            self._online.clear()
            self._vectors.clear()
            raise
        self._dirty |= batch
        for view, n in self._vectors.items():
            VECTORS.labels(view).inc(n)
        self._vectors.clear()
        if self._online:
            entries, self._online = list(self._online.values()), {}
            await self._store.put_many(entries)
        self._count_evictions(batch)
        if self._clock() - self._last_checkpoint >= self._interval:
            await self.checkpoint()

    async def on_revoked(self, partitions: set[int]) -> None:
        """A rebalance took ``partitions`` away: save and forget their state,
        and stop serving their entities from a store of this replica's own
        (whoever owns them next rebuilds from the checkpoint and the log)."""
        await self.checkpoint()
        for partition in partitions:
            self._states.pop(partition, None)
        await self._store.drop_partitions(partitions)
        log.info("feature.partitions_revoked", partitions=sorted(partitions))

    async def checkpoint(self) -> None:
        """Save what changed in every partition since the last checkpoint."""
        states = [self._states[p] for p in sorted(self._dirty) if p in self._states]
        self._dirty.clear()
        self._last_checkpoint = self._clock()
        if not states:
            return
        snapshots = [s.snapshot() for s in states]
        try:
            await self._checkpoints.save(snapshots)
        except BaseException:
            for s in states:  # the next checkpoint saves them whole
                s.snapshot_lost()
                self._dirty.add(s.partition)
            raise
        log.debug(
            "feature.checkpointed",
            partitions=[s.partition for s in snapshots],
            entities=sum(len(v.entities) for s in snapshots for v in s.views.values()),
        )

    async def _state_for(self, partition: int, offset: int) -> PartitionState:
        state = self._states.get(partition)
        if state is None:
            saved = await self._checkpoints.load(partition)
            if saved is not None and await self._foreign(saved):
                saved = None
            state = saved or PartitionState.empty(partition, self.views, self.log_id)
            self._states[partition] = state
            log.info("feature.state_loaded", partition=partition, next_offset=state.next_offset)
        if state.next_offset < offset:
            await self._catch_up(state, offset)
        return state

    async def _rebuilt_if_foreign(self, state: PartitionState) -> bool:
        """Drop the live state of a partition whose log changed under it."""
        if not await self._foreign(state):
            return False
        self._states.pop(state.partition, None)
        return True

    async def _foreign(self, state: PartitionState) -> str:
        """Why ``state`` was not read from this log ('' when it was); logged
        and counted, since the state is then rebuilt from the log."""
        end = -1
        if state.log_id != self.log_id:
            reason = OTHER_CLUSTER
        else:
            end = await self._replayer.end_offset(state.partition)
            if state.next_offset <= end:
                return ""
            reason = BEYOND_LOG_END
        STATE_REBUILDS.labels("feature.partition", reason).inc()
        log.warning(
            "feature.state_from_another_log",
            partition=state.partition,
            reason=reason,
            state_log=state.log_id,
            log=self.log_id,
            state_next_offset=state.next_offset,
            log_end_offset=end,
        )
        return reason

    async def _catch_up(self, state: PartitionState, end: int) -> None:
        # Records this process has not applied (never, or while another
        # replica owned the partition): rebuild, without publishing again.
        start = state.next_offset if state.next_offset >= 0 else None
        count = 0
        async for offset, record in self._replayer.replay(state.partition, start, end):
            if record is not None and not state.applied(offset):
                try:
                    state.apply(record, offset)
                    count += 1
                except Exception as exc:  # it failed live too, and was dead-lettered
                    log.warning("feature.replay_failed", offset=offset, error=repr(exc))
        state.next_offset = end
        self._dirty.add(state.partition)
        REPLAYED.inc(count)
        log.info(
            "feature.caught_up", partition=state.partition, start=start, end=end, records=count
        )

    def _count_evictions(self, partitions: set[int]) -> None:
        for partition in partitions:
            state = self._states.get(partition)
            for name, view in state.views.items() if state else ():
                for reason, n in view.entities.take_evictions().items():
                    EVICTED.labels(name, reason).inc(n)
                    self._evicted[name, reason] += n
        now = self._clock()
        if self._evicted and now - self._evictions_logged >= EVICTION_LOG_INTERVAL_S:
            log.info(
                "feature.entities_evicted",
                evicted={f"{v}/{r}": n for (v, r), n in sorted(self._evicted.items())},
                since_s=round(now - self._evictions_logged, 1),
            )
            self._evicted.clear()
            self._evictions_logged = now

    def _remember(self, vector: Vector, partition: int) -> None:
        entry = OnlineEntry(vector, self._clock(), partition)
        key = (vector.view, vector.entity_id)
        if entry.newer_than(self._online.get(key)):
            self._online[key] = entry

    def _rejected(self, rejection: Rejection) -> None:
        REJECTED.labels(rejection.view, rejection.kind.value).inc()
        log.warning(
            "feature.record_rejected",
            view=rejection.view,
            record_id=rejection.record.record_id,
            reason=rejection.kind.value,
            field=rejection.field,
        )
