"""Stream schemas and their versions in SQLite, so they survive restarts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from driftloop.platform.spec import StreamSpec

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stream_versions (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    schema_json TEXT NOT NULL,
    registered_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (name, version)
)
"""


class SqliteSchemaStore:
    """One row per (stream, version); a compatible change rewrites its row."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)

    def load(self) -> list[StreamSpec]:
        rows = self._db.execute(
            "SELECT schema_json FROM stream_versions ORDER BY name, version"
        ).fetchall()
        return [StreamSpec.model_validate_json(row[0]) for row in rows]

    def save(self, spec: StreamSpec) -> None:
        self._db.execute(
            "INSERT INTO stream_versions (name, version, schema_json) VALUES (?, ?, ?) "
            "ON CONFLICT (name, version) DO UPDATE SET schema_json = excluded.schema_json",
            (spec.name, spec.version, spec.model_dump_json()),
        )

    def close(self) -> None:
        self._db.close()


class MemorySchemaStore:
    """A store that forgets (tests and benchmarks)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, int], StreamSpec] = {}

    def load(self) -> list[StreamSpec]:
        return [self.rows[k] for k in sorted(self.rows)]

    def save(self, spec: StreamSpec) -> None:
        self.rows[spec.name, spec.version] = spec
