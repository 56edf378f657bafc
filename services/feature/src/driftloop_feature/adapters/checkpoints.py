"""Incremental partition-state checkpoints in a SQLite file in the data dir.

A partition's checkpoint is one row of what is small (the offset it reflects,
the id of the log it was read from, each view's running values) and one row
per entity (keyed by view and entity id), under a namespace of topic,
consumer group and the views' fingerprints: a changed view definition never
loads state built by the old one. A save writes only the entities a
:class:`PartitionSnapshot` carries — changed ones replaced, evicted ones
deleted, or, for a state built afresh, the partition's rows replaced — in one
transaction, so a crash leaves the previous checkpoint whole.

Every read and write runs on one worker thread of the store's own: the event
loop only waits for it, and one thread keeps the writes in the order they
were taken and a load after every earlier save. Each entity is pickled
separately in that thread, so the interpreter lock changes hands between
rows and the loop keeps serving.
"""

from __future__ import annotations

import asyncio
import pickle
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from driftloop_feature.domain.entities import EntityHistory
from driftloop_feature.domain.partition import PartitionSnapshot, PartitionState
from driftloop_feature.domain.views import CompiledView

# `checkpoint` held whole pickled partitions (the format before this one):
# its states are rebuilt from the log instead.
_SCHEMA = """
DROP TABLE IF EXISTS checkpoint;
CREATE TABLE IF NOT EXISTS namespace (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS partition_state (
  namespace INTEGER NOT NULL,
  partition INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  log_id TEXT NOT NULL,
  summaries BLOB NOT NULL,
  saved_at REAL NOT NULL,
  PRIMARY KEY (namespace, partition)
);
CREATE TABLE IF NOT EXISTS entity_state (
  namespace INTEGER NOT NULL,
  partition INTEGER NOT NULL,
  view TEXT NOT NULL,
  entity TEXT NOT NULL,
  updated INTEGER NOT NULL,
  history BLOB NOT NULL,
  PRIMARY KEY (namespace, partition, view, entity)
) WITHOUT ROWID;
"""


class SqliteCheckpointStore:
    """Checkpoints of one consumer group's partition states."""

    def __init__(self, path: Path, topic: str, group: str, views: list[CompiledView]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="feature-checkpoints")
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        prints = ",".join(f"{v.name}@{v.fingerprint}" for v in sorted(views, key=lambda v: v.name))
        self.namespace = f"{topic}|{group}|{prints}"
        self._db.execute("INSERT OR IGNORE INTO namespace (name) VALUES (?)", (self.namespace,))
        (self._ns,) = self._db.execute(
            "SELECT id FROM namespace WHERE name = ?", (self.namespace,)
        ).fetchone()
        self._views = {v.name: v for v in views}

    async def load(self, partition: int) -> PartitionState | None:
        return await asyncio.get_running_loop().run_in_executor(self._thread, self.read, partition)

    async def save(self, snapshots: Sequence[PartitionSnapshot]) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self.write, snapshots)

    def read(self, partition: int) -> PartitionState | None:
        """The saved state of a partition, with the live view definitions
        (same fingerprints); blocking."""
        key = (self._ns, partition)
        row = self._db.execute(
            "SELECT next_offset, log_id, summaries FROM partition_state "
            "WHERE namespace = ? AND partition = ?",
            key,
        ).fetchone()
        if row is None:
            return None
        next_offset, log_id, blob = row
        summaries = pickle.loads(blob)
        views = {
            name: (self._views[name], summary, self._histories(partition, name))
            for name, summary in summaries.items()
        }
        return PartitionState.restore(partition, next_offset, log_id, views)

    def write(self, snapshots: Sequence[PartitionSnapshot]) -> None:
        """Apply the snapshots in one transaction; blocking."""
        db = self._db
        db.execute("BEGIN")
        try:
            for snap in snapshots:
                key = (self._ns, snap.partition)
                if snap.full:
                    db.execute(
                        "DELETE FROM entity_state WHERE namespace = ? AND partition = ?", key
                    )
                summaries = {name: v.summary for name, v in snap.views.items()}
                db.execute(
                    "INSERT OR REPLACE INTO partition_state VALUES (?, ?, ?, ?, ?, ?)",
                    (*key, snap.next_offset, snap.log_id, _dumps(summaries), time.time()),
                )
                for name, view in snap.views.items():
                    gone = [(*key, name, e) for e, h in view.entities.items() if h is None]
                    db.executemany(
                        "DELETE FROM entity_state "
                        "WHERE namespace = ? AND partition = ? AND view = ? AND entity = ?",
                        gone,
                    )
                    db.executemany(
                        "INSERT OR REPLACE INTO entity_state VALUES (?, ?, ?, ?, ?, ?)",
                        _rows(key, name, view.entities),
                    )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        self._db.close()

    def _histories(self, partition: int, view: str) -> Iterator[tuple[str, EntityHistory]]:
        rows = self._db.execute(
            "SELECT entity, history FROM entity_state "
            "WHERE namespace = ? AND partition = ? AND view = ? ORDER BY updated",
            (self._ns, partition, view),
        )
        for entity, blob in rows:
            events, max_time, updated = pickle.loads(blob)
            yield entity, EntityHistory(events, max_time, updated)


def _rows(
    key: tuple[int, int], view: str, entities: Mapping[str, EntityHistory | None]
) -> Iterator[tuple[object, ...]]:
    for entity, h in entities.items():
        if h is not None:
            blob = _dumps((h.events, h.max_time, h.updated))
            yield (*key, view, entity, h.updated, blob)


def _dumps(value: object) -> bytes:
    return pickle.dumps(value, protocol=5)
