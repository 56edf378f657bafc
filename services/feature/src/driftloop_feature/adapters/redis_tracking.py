"""A near cache for Redis reads that Redis itself keeps coherent: server-
assisted client-side caching (``CLIENT TRACKING``, default mode, RESP2
redirect; https://redis.io/docs/latest/develop/reference/client-side-caching/).

Reads that may be cached go through one *tracking* connection; Redis then
remembers the keys it read and, when anyone changes one of them (another
replica, our own writer, an operator), sends the key on a second connection
subscribed to ``__redis__:invalidate``. The cache drops the key, so the next
read goes to Redis again.

What could make a cached value stale is covered as well:

- a key changed while its read was in flight: the read is not cached if an
  invalidation for the key arrived meanwhile (a pending marker per key);
- the invalidation connection is lost (Redis then drops the messages): the
  whole cache is cleared and nothing is cached until a new connection is
  subscribed and the tracking connection re-registered with its id; a silent
  network failure is noticed by a PING every ``ping_s`` unanswered within
  another ``ping_s``, so stale reads are bounded by about ``2 * ping_s``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar, cast

import redis.asyncio as redis
import structlog
from prometheus_client import Counter
from redis.exceptions import TimeoutError as RedisTimeout

log = structlog.get_logger(__name__)

CHANNEL = b"__redis__:invalidate"

LOOKUPS = Counter(
    "driftloop_feature_online_cache_total",
    "Online-store keys looked up through the Redis near cache",
    ["result"],
)


# The clients are made without decode_responses, so Redis answers bytes (the
# stubs allow str too).
Values = list[bytes | None]
T = TypeVar("T")


class TrackedReads(Generic[T]):
    """``mget`` with a bounded, Redis-invalidated cache in front; what it
    keeps is each value as the caller's ``decode`` made it, so a hit costs a
    dict lookup.

    Run :meth:`run` as a background task; until its invalidation connection
    is subscribed, reads go straight to Redis and nothing is cached.
    """

    def __init__(
        self,
        url: str,
        max_entries: int,
        *,
        ping_s: float = 1.0,
        retry_s: float = 1.0,
    ) -> None:
        # RESP2: invalidations arrive as plain pub/sub messages on the listener.
        self._pool = redis.ConnectionPool.from_url(url, protocol=2)
        self._max = max_entries
        self._ping_s = ping_s
        self._retry_s = retry_s
        self._cache: dict[bytes, T] = {}
        self._pending: dict[bytes, object] = {}
        #: Client id of the subscribed invalidation connection (None: not subscribed).
        self._listener_id: int | None = None
        #: Bumped whenever the invalidation connection changes or is lost.
        self._epoch = 0
        self._reader_epoch = -1
        self._reader = redis.Redis(
            connection_pool=redis.ConnectionPool.from_url(
                url, protocol=2, max_connections=1, redis_connect_func=self._track
            )
        )
        self.hits = 0
        self.misses = 0
        self._counted = {r: LOOKUPS.labels(r) for r in ("hit", "miss", "uncached")}

    @property
    def active(self) -> bool:
        """Whether reads are cached (the invalidation connection is subscribed)."""
        return self._listener_id is not None

    async def mget(
        self, keys: Sequence[bytes], decode: Callable[[int, bytes], T]
    ) -> list[T | None]:
        """The values of ``keys`` (None: no such key), from the cache where it
        can; ``decode(i, raw)`` makes the value of ``keys[i]`` from Redis's bytes."""
        if not self.active:
            self.misses += len(keys)
            self._counted["uncached"].inc(len(keys))
            raw = cast(Values, await self._reader.mget(keys))
            return [None if v is None else decode(i, v) for i, v in enumerate(raw)]
        cache = self._cache
        out: list[T | None] = [cache.get(k) for k in keys]
        missing = [i for i, v in enumerate(out) if v is None]
        self.hits += len(keys) - len(missing)
        self._counted["hit"].inc(len(keys) - len(missing))
        if not missing:
            return out
        self.misses += len(missing)
        self._counted["miss"].inc(len(missing))
        if self._reader_epoch != self._epoch:
            # Registered with a lost invalidation connection: register again.
            await self._reader.connection_pool.disconnect()
        epoch, token = self._epoch, object()
        wanted = [keys[i] for i in missing]
        for key in wanted:
            self._pending[key] = token
        try:
            values = cast(Values, await self._reader.mget(wanted))
        except BaseException:
            for key in wanted:
                if self._pending.get(key) is token:
                    del self._pending[key]
            raise
        cacheable = self.active and epoch == self._epoch == self._reader_epoch
        for i, key, raw_value in zip(missing, wanted, values, strict=True):
            ours = self._pending.get(key) is token  # not invalidated while in flight
            if ours:
                del self._pending[key]
            if raw_value is not None:
                value = out[i] = decode(i, raw_value)
                if ours and cacheable:
                    self._put(key, value)
        return out

    def _put(self, key: bytes, value: T) -> None:
        if len(self._cache) >= self._max:
            # Forget the oldest tenth: insertion order is age order.
            for old in list(self._cache)[: max(1, self._max // 10)]:
                del self._cache[old]
        self._cache[key] = value

    def invalidate(self, keys: list[bytes] | None) -> None:
        """Drop ``keys`` (None: everything) from the cache and from reads in flight."""
        if keys is None:
            self._cache.clear()
            self._pending.clear()
            return
        for key in keys:
            self._cache.pop(key, None)
            self._pending.pop(key, None)

    async def _track(self, conn: Any) -> None:
        """On every (re)connect of the reading connection: track its reads,
        with invalidations sent to the current listener."""
        await conn.on_connect()
        epoch, listener = self._epoch, self._listener_id
        if listener is None:
            return
        await conn.send_command("CLIENT", "TRACKING", "ON", "REDIRECT", listener)
        reply = await conn.read_response()
        if reply not in (b"OK", "OK"):
            raise ConnectionError(f"CLIENT TRACKING failed: {reply!r}")
        self._reader_epoch = epoch

    async def run(self) -> None:
        """Keep an invalidation connection subscribed, until cancelled."""
        while True:
            conn = self._pool.connection_class(**self._pool.connection_kwargs)
            try:
                await conn.connect()
                await conn.send_command("CLIENT", "ID")
                client_id = int(await conn.read_response())
                await conn.send_command("SUBSCRIBE", CHANNEL)
                await conn.read_response(push_request=True)
                self._epoch += 1
                self._listener_id = client_id
                log.info("online_store.cache_tracking", listener=client_id)
                await self._listen(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("online_store.cache_invalidations_lost", error=repr(exc))
            finally:
                self._listener_id = None
                self._epoch += 1
                self.invalidate(None)
                await conn.disconnect()
            await asyncio.sleep(self._retry_s)

    async def _listen(self, conn: Any) -> None:
        pinged = False
        while True:
            try:
                message = await conn.read_response(
                    timeout=self._ping_s, disconnect_on_error=False, push_request=True
                )
            except (TimeoutError, RedisTimeout):
                message = None
            if message is None:  # nothing within ping_s
                if pinged:
                    raise ConnectionError(f"no answer to PING within {self._ping_s} s")
                await conn.send_command("PING")
                pinged = True
                continue
            pinged = False
            if isinstance(message, list) and message and message[0] == b"message":
                self.invalidate(message[2])

    async def close(self) -> None:
        await self._reader.aclose()
        await self._pool.disconnect()
