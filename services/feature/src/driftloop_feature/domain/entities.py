"""One view's per-entity histories over one partition, and their bounds.

State is bounded two ways, both deterministic functions of the partition's
log (so a replay or a restored checkpoint evicts exactly the same entities):

- **time to live** (the view's ``entity_ttl_s``), measured on *event time*:
  an entity expires once the view's newest event time in the partition (its
  watermark) is more than the TTL past the entity's newest event. Feast's
  TTL is event time too; Flink's state TTL is processing time, which would
  make a replay forget other entities than the live run did.
- **a maximum entity count** (the service's ``max_entities``): past it, the
  least recently updated entity (arrival order) is evicted first.

An evicted entity starts from empty state when it comes back: its rolling
windows and ``time_since_previous`` restart, as for an entity never seen.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

#: Eviction reasons (the ``reason`` label of the evictions metric).
EXPIRED = "ttl"
OVER_CAPACITY = "max_entities"


@dataclass
class EntityHistory:
    """One entity's recent events, sorted by (event time, arrival)."""

    #: (event time s, arrival seq, values of the view's rolling fields)
    events: list[tuple[float, int, tuple[float, ...]]] = field(default_factory=list)
    max_time: float = -math.inf
    #: The arrival seq of the entity's last applied record (orders eviction).
    updated: int = -1
    #: The table's snapshot generation this object belongs to: one of an
    #: older generation may be held by a snapshot, so it is copied, never
    #: changed.
    generation: int = 0

    def copy(self, generation: int) -> EntityHistory:
        """A copy to change (the events themselves are immutable tuples)."""
        return EntityHistory(list(self.events), self.max_time, self.updated, generation)


@dataclass
class EntityTable:
    """Histories by entity id, least recently updated first."""

    histories: OrderedDict[str, EntityHistory] = field(default_factory=OrderedDict)
    #: The newest event time applied to any entity.
    watermark: float = -math.inf
    #: The entities updated (their history) or evicted (None) since the
    #: last :meth:`take_changes`.
    changed: dict[str, EntityHistory | None] = field(default_factory=dict)
    #: How many times changes were taken (see ``EntityHistory.generation``).
    generation: int = 0
    #: Evictions by reason since the last :meth:`take_evictions`.
    evictions: Counter[str] = field(default_factory=Counter)

    def __len__(self) -> int:
        return len(self.histories)

    def live(self, entity_id: str, t: float, ttl_s: float | None) -> EntityHistory | None:
        """The entity's history to update, or None when it has none or it
        expired by event time ``t`` (it is then forgotten once :meth:`put`
        stores the new one); a copy when a snapshot holds it."""
        history = self.histories.get(entity_id)
        if history is None or _expired(history, max(self.watermark, t), ttl_s):
            return None
        return history if history.generation == self.generation else history.copy(self.generation)

    def put(
        self, entity_id: str, history: EntityHistory, ttl_s: float | None, max_entities: int
    ) -> None:
        """Store an updated history as the most recent, then evict what the
        bounds no longer allow (oldest first)."""
        old = self.histories.pop(entity_id, None)
        if old is not None and _expired(old, max(self.watermark, history.max_time), ttl_s):
            self.evictions[EXPIRED] += 1  # `live` found it expired
        history.generation = self.generation
        self.histories[entity_id] = history
        self.changed[entity_id] = history
        self.watermark = max(self.watermark, history.max_time)
        while self.histories:
            oldest_id, oldest = next(iter(self.histories.items()))
            if _expired(oldest, self.watermark, ttl_s):
                reason = EXPIRED
            elif max_entities and len(self.histories) > max_entities:
                reason = OVER_CAPACITY
            else:
                break
            del self.histories[oldest_id]
            self.changed[oldest_id] = None
            self.evictions[reason] += 1

    def take_changes(self) -> dict[str, EntityHistory | None]:
        """What changed since the last call (None: evicted), in constant time:
        no history is copied; each is copied on its next update instead (copy
        on write), so what this returns never changes."""
        changed, self.changed = self.changed, {}
        self.generation += 1
        return changed

    def mark_all_changed(self) -> None:
        """Every entity is to be saved again (a checkpoint failed)."""
        self.changed = dict(self.histories)

    def take_evictions(self) -> Counter[str]:
        evictions, self.evictions = self.evictions, Counter()
        return evictions

    @classmethod
    def restore(
        cls, watermark: float, histories: Iterable[tuple[str, EntityHistory]]
    ) -> EntityTable:
        """A table from saved histories, which must come least recently updated first."""
        return cls(OrderedDict(histories), watermark)


def _expired(history: EntityHistory, now: float, ttl_s: float | None) -> bool:
    return ttl_s is not None and history.max_time < now - ttl_s
