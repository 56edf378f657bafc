"""The Redis online store: one binary string per (view, version, entity),
written newest-wins by a Lua script (an older vector never replaces a newer
one, even when two writers race) and read with one MGET. Feature names are
not stored: they are the view's. Reads may go through a near cache that Redis
keeps coherent (``redis_tracking.TrackedReads``)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import cast

import redis.asyncio as redis

from driftloop_feature.adapters.redis_tracking import TrackedReads, Values
from driftloop_feature.domain.model import Vector
from driftloop_feature.service.ports import OnlineEntry

# KEYS: entity keys; ARGV: event time, value, event time, value, ...
_PUT_NEWEST = """
for i, key in ipairs(KEYS) do
  local t = tonumber(ARGV[2 * i - 1])
  local current = redis.call('GET', key)
  if (not current) or tonumber(string.sub(current, 1, 20)) <= t then
    redis.call('SET', key, ARGV[2 * i])
  end
end
return #KEYS
"""


class RedisOnlineStore:
    """Newest entry per (view, version, entity) in Redis under ``prefix``;
    with ``cache_entries``, up to that many values are also kept in process
    (run :meth:`run_cache` as a background task)."""

    def __init__(self, url: str, prefix: str, cache_entries: int = 0) -> None:
        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix
        self._put = self._redis.register_script(_PUT_NEWEST)
        self.cache: TrackedReads[OnlineEntry] | None = (
            TrackedReads(url, cache_entries) if cache_entries else None
        )

    async def run_cache(self) -> None:
        """Keep the near cache's invalidations flowing (until cancelled)."""
        if self.cache is not None:
            await self.cache.run()

    def key(self, view: str, version: int, entity: str) -> str:
        return f"{self._prefix}{view}:v{version}:{entity}"

    async def put_many(self, entries: Sequence[OnlineEntry]) -> None:
        keys: list[str] = []
        args: list[bytes | int] = []
        for entry in entries:
            v = entry.vector
            keys.append(self.key(v.view, v.view_version, v.entity_id))
            args += [v.event_time_ns, _encode(entry)]
        if keys:
            await self._put(keys=keys, args=args)
            if self.cache is not None:
                # Our own writes are visible at once (others' arrive as invalidations).
                self.cache.invalidate([k.encode() for k in keys])

    async def get_many(
        self, view: str, version: int, entity_ids: Sequence[str]
    ) -> list[OnlineEntry | None]:
        keys = [self.key(view, version, e).encode() for e in entity_ids]

        def decode(i: int, raw: bytes) -> OnlineEntry:
            return _decode(raw, view, version, entity_ids[i])

        if self.cache is not None:
            return await self.cache.mget(keys, decode)
        raw = cast(Values, await self._redis.mget(keys))
        return [None if v is None else decode(i, v) for i, v in enumerate(raw)]

    async def ping(self) -> bool:
        """Whether Redis answers (a readiness check)."""
        return bool(await self._redis.ping())

    async def drop_partitions(self, partitions: set[int]) -> None:
        return None  # shared: the partitions' next owner keeps the entries current

    async def close(self) -> None:
        if self.cache is not None:
            await self.cache.close()
        await self._redis.aclose()


# Value layout: event time in ns as 20 ASCII digits (what the Lua script
# compares), then computed_at (f64) and the lengths of record id, event id and
# stream (u16 each), those three strings, then the values as f64s.
_HEAD = struct.Struct("<dHHH")


def _encode(entry: OnlineEntry) -> bytes:
    v = entry.vector
    rid, eid, stream = v.record_id.encode(), v.event_id.encode(), v.stream.encode()
    return b"".join(
        (
            b"%020d" % v.event_time_ns,
            _HEAD.pack(entry.computed_at, len(rid), len(eid), len(stream)),
            rid,
            eid,
            stream,
            struct.pack(f"<{len(v.values)}d", *v.values),
        )
    )


def _decode(raw: bytes, view: str, version: int, entity: str) -> OnlineEntry:
    computed_at, lr, le, ls = _HEAD.unpack_from(raw, 20)
    at = 20 + _HEAD.size
    rid, eid, stream = raw[at : at + lr], raw[at + lr : at + lr + le], raw[at + lr + le :][:ls]
    at += lr + le + ls
    values = struct.unpack_from(f"<{(len(raw) - at) // 8}d", raw, at)
    vector = Vector(
        event_id=eid.decode(),
        record_id=rid.decode(),
        stream=stream.decode(),
        entity_id=entity,
        event_time_ns=int(raw[:20]),
        view=view,
        view_version=version,
        names=(),
        values=values,
    )
    return OnlineEntry(vector, computed_at)
