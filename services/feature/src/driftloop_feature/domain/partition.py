"""The state of every view over one partition of the records topic.

Records are keyed by entity id, so an entity's records all live in one
partition and the partition is the unit of state: one replica owns it at a
time, and the state is a deterministic function of the partition's records up
to ``next_offset``. That is what makes checkpoints and replays exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from driftloop_feature.domain.compute import ViewState
from driftloop_feature.domain.model import Record, Rejection, Vector
from driftloop_feature.domain.views import CompiledView


@dataclass
class PartitionState:
    """Every view's state over one partition, and the next offset to apply."""

    partition: int
    views: dict[str, ViewState] = field(default_factory=dict)
    #: The offset of the next record to apply; -1 before the first one.
    next_offset: int = -1
    #: The id of the log (Kafka cluster) the records were read from.
    log_id: str = ""

    @classmethod
    def empty(cls, partition: int, views: list[CompiledView], log_id: str = "") -> PartitionState:
        return cls(partition, {v.name: ViewState(v) for v in views}, log_id=log_id)

    def applied(self, offset: int) -> bool:
        """Whether the record at ``offset`` is already reflected in the state."""
        return offset < self.next_offset

    def apply(self, record: Record, offset: int) -> list[Vector | Rejection]:
        """Fold in the record at ``offset``: one outcome per view of its stream."""
        out = [s.apply(record) for s in self.views.values() if s.view.spec.stream == record.stream]
        self.next_offset = offset + 1
        return out
