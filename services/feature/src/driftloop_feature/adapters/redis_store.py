"""The Redis online store: one string per (view, version, entity), written
newest-wins by a Lua script (an older vector never replaces a newer one, even
when two writers race) and read with one MGET."""

from __future__ import annotations

import json
from collections.abc import Sequence

import redis.asyncio as redis

from driftloop_feature.domain.model import Vector
from driftloop_feature.service.ports import OnlineEntry

# KEYS: entity keys; ARGV: event time, value, event time, value, ...
_PUT_NEWEST = """
for i, key in ipairs(KEYS) do
  local t = tonumber(ARGV[2 * i - 1])
  local current = redis.call('GET', key)
  if (not current) or tonumber(cjson.decode(current)['t']) <= t then
    redis.call('SET', key, ARGV[2 * i])
  end
end
return #KEYS
"""


class RedisOnlineStore:
    """Newest entry per (view, version, entity) in Redis under ``prefix``."""

    def __init__(self, url: str, prefix: str) -> None:
        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix
        self._put = self._redis.register_script(_PUT_NEWEST)

    def key(self, view: str, version: int, entity: str) -> str:
        return f"{self._prefix}{view}:v{version}:{entity}"

    async def put_many(self, entries: Sequence[OnlineEntry]) -> None:
        keys: list[str] = []
        args: list[str | int] = []
        for entry in entries:
            v = entry.vector
            keys.append(self.key(v.view, v.view_version, v.entity_id))
            args += [v.event_time_ns, _encode(entry)]
        if keys:
            await self._put(keys=keys, args=args)

    async def get_many(
        self, view: str, version: int, entity_ids: Sequence[str]
    ) -> list[OnlineEntry | None]:
        raw = await self._redis.mget([self.key(view, version, e) for e in entity_ids])
        return [
            None if text is None else _decode(text, view, version, entity)
            for text, entity in zip(raw, entity_ids, strict=True)
        ]

    async def close(self) -> None:
        await self._redis.aclose()


def _encode(entry: OnlineEntry) -> str:
    v = entry.vector
    doc = {
        "t": v.event_time_ns,
        "c": entry.computed_at,
        "r": v.record_id,
        "e": v.event_id,
        "s": v.stream,
        "n": v.names,
        "v": v.values,
    }
    return json.dumps(doc, separators=(",", ":"))


def _decode(text: bytes, view: str, version: int, entity: str) -> OnlineEntry:
    d = json.loads(text)
    vector = Vector(
        event_id=d["e"],
        record_id=d["r"],
        stream=d["s"],
        entity_id=entity,
        event_time_ns=d["t"],
        view=view,
        view_version=version,
        names=tuple(d["n"]),
        values=tuple(d["v"]),
    )
    return OnlineEntry(vector, d["c"])
