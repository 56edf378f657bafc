"""Connections to the metadata database: SQLite (a file) or PostgreSQL, with
the few differences between them in one place. Queries are written with ``?``
placeholders; every transaction runs in a worker thread."""

from __future__ import annotations

import contextlib
import queue
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from driftloop.platform.errors import InvalidArgument
from driftloop_registry.adapters import sql_schema


class Database:
    """A small pool of connections and transactions over it."""

    name = ""
    types: dict[str, str] = {}
    lock_rows = ""

    def __init__(self, pool_size: int = 4) -> None:
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._all: list[Any] = []
        self._pool_size = pool_size

    def _connect(self) -> Any:
        raise NotImplementedError

    def _begin(self, conn: Any, write: bool) -> None:
        raise NotImplementedError

    def sql(self, query: str) -> str:
        return query

    def _usable(self, conn: Any) -> bool:
        return True

    @contextlib.contextmanager
    def transaction(self, write: bool) -> Iterator[Cursor]:
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = self._connect()
            self._all.append(conn)
        try:
            self._begin(conn, write)
            yield Cursor(self, conn.cursor())
            conn.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                conn.rollback()
            raise
        finally:
            if self._usable(conn):
                self._idle.put(conn)
            else:  # e.g. the server restarted: the next call opens a new one
                self._all.remove(conn)
                with contextlib.suppress(Exception):
                    conn.close()

    def migrate_prelude(self, cur: Cursor) -> None:
        """Dialect-specific work before migrations (locks, schema)."""

    def claim_outbox(self, cur: Cursor) -> bool:
        """In a write transaction: whether this relay may drain the outbox now.
        SQLite's write transaction already excludes every other writer of the
        file, so the claim is the transaction itself."""
        return True

    def close(self) -> None:
        for conn in self._all:
            with contextlib.suppress(Exception):
                conn.close()
        self._all.clear()


class Cursor:
    """A DB-API cursor that speaks ``?`` placeholders in both dialects."""

    def __init__(self, db: Database, cur: Any) -> None:
        self._db = db
        self._cur = cur

    def execute(self, query: str, params: tuple[Any, ...] = ()) -> Cursor:
        self._cur.execute(self._db.sql(query), params)
        return self

    def one(self) -> tuple[Any, ...] | None:
        return self._cur.fetchone()

    def all(self) -> list[tuple[Any, ...]]:
        return list(self._cur.fetchall())


class SqliteDatabase(Database):
    name = "sqlite"
    types = sql_schema.SQLITE

    def __init__(self, path: Path) -> None:
        super().__init__()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _begin(self, conn: Any, write: bool) -> None:
        # IMMEDIATE takes the write lock up front, so read-then-write (compare-
        # and-set, numbering) cannot interleave with another writer.
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")


class PostgresDatabase(Database):
    name = "postgresql"
    types = sql_schema.POSTGRES
    lock_rows = " FOR UPDATE"

    def __init__(self, url: str, schema: str) -> None:
        super().__init__()
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
            raise InvalidArgument(f"database_schema: {schema!r} is not a plain schema name")
        self.url = url
        self.schema = schema

    def _connect(self) -> Any:
        import psycopg

        conn = psycopg.connect(self.url, autocommit=False)
        conn.execute(f'SET search_path TO "{self.schema}"')
        conn.commit()
        return conn

    def _begin(self, conn: Any, write: bool) -> None:
        # psycopg opens a transaction at the first statement.
        return None

    def sql(self, query: str) -> str:
        return query.replace("?", "%s")

    def _usable(self, conn: Any) -> bool:
        return not conn.closed and not conn.broken

    def migrate_prelude(self, cur: Cursor) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (f"registry:{self.schema}",))
        cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')

    def claim_outbox(self, cur: Cursor) -> bool:
        # One relay drains at a time (a lease held by the transaction; a dead
        # replica's connection closes and frees it). Claiming single rows with
        # SKIP LOCKED instead would let two relays publish one model's events
        # out of commit order.
        row = cur.execute(
            "SELECT pg_try_advisory_xact_lock(hashtext(?))", (f"outbox:{self.schema}",)
        ).one()
        return bool(row and row[0])

    def drop_schema(self) -> None:
        """Remove everything (tests use a throwaway schema per run)."""
        with self.transaction(write=True) as cur:
            cur.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


def open_database(url: str, data_dir: Path, schema: str) -> Database:
    """``url`` empty: SQLite under ``data_dir``; ``sqlite:///path``; or a
    ``postgresql://`` URL (tables in ``schema``)."""
    if not url:
        return SqliteDatabase(data_dir / "registry.db")
    if url.startswith("sqlite:///"):
        return SqliteDatabase(Path(url.removeprefix("sqlite:///")))
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresDatabase(url, schema)
    raise InvalidArgument(f"database_url: {url!r} is neither sqlite:/// nor postgresql://")
