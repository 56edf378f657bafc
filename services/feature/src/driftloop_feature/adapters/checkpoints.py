"""Partition-state checkpoints in a SQLite file in the data dir.

A checkpoint is a pickled :class:`PartitionState` (which carries the offset it
reflects) under a namespace of topic, consumer group and the views'
fingerprints: a changed view definition never loads state built by the old one.
"""

from __future__ import annotations

import pickle
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from driftloop_feature.domain.partition import PartitionState
from driftloop_feature.domain.views import CompiledView

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoint (
  namespace TEXT NOT NULL,
  partition INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  state BLOB NOT NULL,
  saved_at REAL NOT NULL,
  PRIMARY KEY (namespace, partition)
)
"""


class SqliteCheckpointStore:
    """Checkpoints of one consumer group's partition states."""

    def __init__(self, path: Path, topic: str, group: str, views: list[CompiledView]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        prints = ",".join(f"{v.name}@{v.fingerprint}" for v in sorted(views, key=lambda v: v.name))
        self.namespace = f"{topic}|{group}|{prints}"
        self._views = {v.name: v for v in views}

    def load(self, partition: int) -> PartitionState | None:
        row = self._db.execute(
            "SELECT state FROM checkpoint WHERE namespace = ? AND partition = ?",
            (self.namespace, partition),
        ).fetchone()
        if row is None:
            return None
        state: PartitionState = pickle.loads(row[0])
        for name, view_state in state.views.items():
            view_state.view = self._views[name]  # the live definition, same fingerprint
        return state

    def save(self, states: Sequence[PartitionState]) -> None:
        rows = [
            (self.namespace, s.partition, s.next_offset, pickle.dumps(s, protocol=5), time.time())
            for s in states
        ]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO checkpoint VALUES (?, ?, ?, ?, ?)", rows)

    def close(self) -> None:
        self._db.close()
