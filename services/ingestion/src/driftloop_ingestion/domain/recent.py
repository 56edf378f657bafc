"""A bounded, time-limited memory of recent ids: the dedupe window, and the
set of record ids seen (for labels)."""

from __future__ import annotations

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
        # Insertion order is age order: a key is only ever added anew.
        self._ids: dict[Hashable, float] = {}
        #: When the oldest remembered id expires (checked on every claim).
        self._next_expiry = float("inf")

    def _expire(self, now: float) -> None:
        ids = self._ids
        horizon = now - self.ttl_s if self.ttl_s else float("-inf")
        while ids:
            oldest = next(iter(ids))
            if ids[oldest] > horizon and len(ids) <= self.max_ids:
                break
            del ids[oldest]
        self._next_expiry = (
            ids[next(iter(ids))] + self.ttl_s if ids and self.ttl_s else float("inf")
        )

    def claim(self, key: Hashable, now: float) -> bool:
        """Remember ``key``; False when it is already remembered (a duplicate)."""
        ids = self._ids
        if key in ids:
            self._expire(now)
            if key in ids:
                return False
        if not ids and self.ttl_s:
            self._next_expiry = now + self.ttl_s
        ids[key] = now
        if len(ids) > self.max_ids or now >= self._next_expiry:
            self._expire(now)
        return True

    def release(self, key: Hashable) -> None:
        """Forget ``key`` (its record was not published after all)."""
        self._ids.pop(key, None)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._ids

    def __len__(self) -> int:
        return len(self._ids)
