"""The state of every view over one partition of the records topic.

Records are keyed by entity id, so an entity's records all live in one
partition and the partition is the unit of state: one replica owns it at a
time, and the state is a deterministic function of the partition's records up
to ``next_offset``. That is what makes checkpoints and replays exact.

A checkpoint is incremental: :meth:`PartitionState.snapshot` copies the views'
small running values and takes the entities changed (or evicted) since the
previous snapshot without copying them (copy on write), so it costs next to
nothing on the event loop; writing it is the checkpoint store's business.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from driftloop_feature.domain.compute import ViewState, ViewSummary
from driftloop_feature.domain.entities import EntityHistory
from driftloop_feature.domain.model import Record, Rejection, Vector
from driftloop_feature.domain.views import CompiledView


@dataclass(frozen=True)
class ViewSnapshot:
    """One view's part of a snapshot."""

    summary: ViewSummary
    #: The entities changed since the last snapshot (None: evicted); these
    #: histories are never changed again (see ``EntityTable.take_changes``).
    entities: Mapping[str, EntityHistory | None]


@dataclass(frozen=True)
class PartitionSnapshot:
    """What changed in a partition's state since its last snapshot."""

    partition: int
    next_offset: int
    log_id: str
    #: The state was built afresh: this replaces every saved entity of the
    #: partition instead of updating the changed ones.
    full: bool
    views: dict[str, ViewSnapshot]


@dataclass
class PartitionState:
    """Every view's state over one partition, and the next offset to apply."""

    partition: int
    views: dict[str, ViewState] = field(default_factory=dict)
    #: The offset of the next record to apply; -1 before the first one.
    next_offset: int = -1
    #: The id of the log (Kafka cluster) the records were read from.
    log_id: str = ""
    #: Whether the next snapshot must be full (see :class:`PartitionSnapshot`).
    unsaved: bool = True

    @classmethod
    def empty(cls, partition: int, views: list[CompiledView], log_id: str = "") -> PartitionState:
        return cls(partition, {v.name: ViewState(v) for v in views}, log_id=log_id)

    @classmethod
    def restore(
        cls,
        partition: int,
        next_offset: int,
        log_id: str,
        views: Mapping[str, tuple[CompiledView, ViewSummary, Iterable[tuple[str, EntityHistory]]]],
    ) -> PartitionState:
        """The state a saved snapshot series describes (see ``ViewState.restore``)."""
        restored = {name: ViewState.restore(*parts) for name, parts in views.items()}
        return cls(partition, restored, next_offset, log_id, unsaved=False)

    def applied(self, offset: int) -> bool:
        """Whether the record at ``offset`` is already reflected in the state."""
        return offset < self.next_offset

    def apply(self, record: Record, offset: int) -> list[Vector | Rejection]:
        """Fold in the record at ``offset``: one outcome per view of its stream."""
        out = [s.apply(record) for s in self.views.values() if s.view.spec.stream == record.stream]
        self.next_offset = offset + 1
        return out

    def snapshot(self) -> PartitionSnapshot:
        """Take what changed since the last snapshot (the next one starts
        from here; call :meth:`snapshot_lost` if this one is not saved)."""
        full, self.unsaved = self.unsaved, False
        views = {
            name: ViewSnapshot(s.summary(), s.entities.take_changes())
            for name, s in self.views.items()
        }
        return PartitionSnapshot(self.partition, self.next_offset, self.log_id, full, views)

    def snapshot_lost(self) -> None:
        """A snapshot failed to save: the next one saves everything."""
        self.unsaved = True
        for s in self.views.values():
            s.entities.mark_all_changed()
