"""A bounded, time-limited memory of recent ids: the dedupe window, and the
set of record ids seen (for labels)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable


class RecentIds:
    """Remembers ids for at most ``ttl_s`` seconds and at most ``max_ids`` of
    them (the oldest is forgotten first). In memory, per process.

    >>> ids = RecentIds(max_ids=2, ttl_s=10)
    >>> ids.claim("a", now=0), ids.claim("a", now=1)
    (True, False)
    >>> ids.claim("a", now=11)
    True
    """

    def __init__(self, max_ids: int, ttl_s: float) -> None:
        self.max_ids = max_ids
        self.ttl_s = ttl_s
        self._ids: OrderedDict[Hashable, float] = OrderedDict()

    def _expire(self, now: float) -> None:
        ids, horizon = self._ids, now - self.ttl_s
        while ids:
            at = next(iter(ids.values()))
            if at > horizon and len(ids) <= self.max_ids:
                break
            ids.popitem(last=False)

    def claim(self, key: Hashable, now: float) -> bool:
        """Remember ``key``; False when it is already remembered (a duplicate)."""
        if key in self._ids:
            self._expire(now)
            if key in self._ids:
                return False
        self._ids[key] = now
        if len(self._ids) > self.max_ids or (
            self.ttl_s and next(iter(self._ids.values())) <= now - self.ttl_s
        ):
            self._expire(now)
        return True

    def release(self, key: Hashable) -> None:
        """Forget ``key`` (its record was not published after all)."""
        self._ids.pop(key, None)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._ids

    def __len__(self) -> int:
        return len(self._ids)
