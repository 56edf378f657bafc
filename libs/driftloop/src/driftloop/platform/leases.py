"""Leases: which replica of a service owns a key (a model) right now.

A lease is a row (scope, key) with its holder, an expiry and an epoch that
grows at every change of hands. A replica takes a key when nobody holds it or
its holder let it expire (it died, or stopped renewing), keeps it by renewing
before the expiry, and gives it up by releasing it. Taking and renewing are
one atomic statement each (``INSERT … ON CONFLICT DO UPDATE … WHERE``), so two
replicas never both hold a key. The row also carries a small JSON document the
holder may update (what it is doing), so the next holder can continue.

The rows live in PostgreSQL (``postgresql://…``: replicas on many machines) or
in a SQLite file (replicas on one machine, e.g. ``driftloop up --replicas``).
Every call is one short transaction in a worker thread.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "leases.db"
>>> a = Leases(f"sqlite:///{path}", "demo", "replica-a", ttl_s=30)
>>> b = Leases(f"sqlite:///{path}", "demo", "replica-b", ttl_s=30)
>>> a.take("m").epoch, b.take("m")
(1, None)
>>> a.release("m", {"done": True})
True
>>> lease = b.take("m")
>>> lease.epoch, lease.data, lease.previous_holder
(2, {'done': True}, 'replica-a')
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from driftloop.platform.lease_port import Lease
from driftloop.platform.settings import ServiceSettings

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS leases (scope TEXT NOT NULL, key TEXT NOT NULL, "
    "holder TEXT NOT NULL, expires_at BIGINT NOT NULL, epoch BIGINT NOT NULL, "
    "data TEXT NOT NULL, PRIMARY KEY (scope, key))"
)
# Take the key if it is free, expired, or already ours; ``holder`` before the
# update is returned too (the ``previous`` sub-select), so the taker knows
# whether it continues someone else's work.
_TAKE = (
    "INSERT INTO leases AS l (scope, key, holder, expires_at, epoch, data) "
    "VALUES (?, ?, ?, ?, 1, '{}') ON CONFLICT (scope, key) DO UPDATE SET "
    "holder = excluded.holder, expires_at = excluded.expires_at, "
    "epoch = CASE WHEN l.holder = excluded.holder THEN l.epoch ELSE l.epoch + 1 END "
    "WHERE l.holder = excluded.holder OR l.expires_at < ? RETURNING epoch, data"
)


class Leases:
    """The leases of one ``scope`` (e.g. ``training``) as seen by ``holder``."""

    def __init__(self, url: str, scope: str, holder: str, ttl_s: float = 10.0) -> None:
        self.scope = scope
        self.holder = holder
        self.ttl_s = ttl_s
        self._url = url
        self._conn: Any = None
        self._lock = threading.Lock()
        self._postgres = url.startswith(("postgresql://", "postgres://"))
        if not self._postgres and not url.startswith("sqlite:///"):
            raise ValueError(f"leases url {url!r} is neither sqlite:/// nor postgresql://")

    @classmethod
    def of(cls, settings: ServiceSettings, scope: str) -> Leases:
        """A service process's view of its leases (a holder name unique to the
        process, so a restarted replica does not inherit its own)."""
        url = settings.replica.leases_url or f"sqlite:///{settings.data_dir / 'leases.db'}"
        holder = f"{settings.replica.id or 'solo'}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        return cls(url, scope, holder, settings.replica.lease_ttl_s)

    def take(self, key: str) -> Lease | None:
        """Hold ``key`` for ``ttl_s`` from now (taking or renewing it), or
        None when another live replica holds it."""
        now = _now_us()
        with self._transaction() as cur:
            row = cur.execute(
                self._sql("SELECT holder FROM leases WHERE scope = ? AND key = ?"),
                (self.scope, key),
            ).fetchone()
            taken = cur.execute(
                self._sql(_TAKE),
                (self.scope, key, self.holder, now + int(self.ttl_s * 1e6), now),
            ).fetchone()
        if taken is None:
            return None
        previous = row[0] if row and row[0] != self.holder else ""
        return Lease(key, int(taken[0]), json.loads(taken[1]), previous, self.holder)

    def peek(self, key: str) -> Lease | None:
        """The lease as it stands (held or not), without taking it."""
        with self._transaction() as cur:
            row = cur.execute(
                self._sql(
                    "SELECT epoch, data, holder, expires_at FROM leases WHERE scope = ? AND key = ?"
                ),
                (self.scope, key),
            ).fetchone()
        if row is None:
            return None
        epoch, data, holder, expires_at = row
        return Lease(key, int(epoch), json.loads(data), "", holder, expires_at >= _now_us())

    def put(self, key: str, data: dict[str, Any]) -> bool:
        """Replace the lease's document; False when we no longer hold it."""
        return self._update(key, data, _now_us() + int(self.ttl_s * 1e6))

    def release(self, key: str, data: dict[str, Any] | None = None) -> bool:
        """Give ``key`` up now (optionally leaving ``data`` for the next
        holder); False when we no longer held it."""
        return self._update(key, data, 0)

    def holders(self) -> dict[str, str]:
        """Key → live holder, for every unexpired lease of the scope."""
        with self._transaction() as cur:
            rows = cur.execute(
                self._sql("SELECT key, holder FROM leases WHERE scope = ? AND expires_at >= ?"),
                (self.scope, _now_us()),
            ).fetchall()
        return dict(rows)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    self._conn.close()
                self._conn = None

    def _update(self, key: str, data: dict[str, Any] | None, expires_at: int) -> bool:
        sets = "expires_at = ?" + (", data = ?" if data is not None else "")
        params: tuple[Any, ...] = (expires_at,) + ((json.dumps(data),) if data is not None else ())
        with self._transaction() as cur:
            where = "scope = ? AND key = ? AND holder = ? AND expires_at >= ?"
            cur.execute(
                self._sql(f"UPDATE leases SET {sets} WHERE {where}"),
                (*params, self.scope, key, self.holder, _now_us()),
            )
            return bool(cur.rowcount)

    def _sql(self, query: str) -> str:
        return query.replace("?", "%s") if self._postgres else query

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._lock:
            if self._conn is None or getattr(self._conn, "closed", False):
                self._conn = self._connect()
            conn = self._conn
            try:
                cur = conn.cursor()
                if not self._postgres:
                    cur.execute("BEGIN IMMEDIATE")
                yield cur
                conn.commit()
            except BaseException:
                with contextlib.suppress(Exception):
                    conn.rollback()
                if self._postgres and conn.broken:  # e.g. the server restarted
                    self._conn = None
                raise

    def _connect(self) -> Any:
        if self._postgres:
            import psycopg  # only where PostgreSQL is used

            conn: Any = psycopg.connect(self._url, autocommit=False)
        else:
            path = Path(self._url.removeprefix("sqlite:///"))
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
        try:
            conn.cursor().execute(_SCHEMA)
            conn.commit()
        except Exception:  # another replica created it at the same moment
            conn.rollback()
        return conn


def _now_us() -> int:
    return time.time_ns() // 1000
