"""Artifacts in the metadata database itself: a table of content-addressed
blobs (sha256 → bytes) that every registry replica shares, so that a registry
started on a fresh disk (a Kubernetes pod on an ``emptyDir``) still serves
every version it ever registered. Used when the database is PostgreSQL; with
SQLite (embedded) the local files are the store.

Local files stay in front as a read-through cache: an artifact is written to
both at registration (the blob before the version that names it commits), and
read from the file when it is there and intact, else from the database (and
the file restored)."""

from __future__ import annotations

import asyncio
import hashlib

import structlog

from driftloop_registry.adapters.artifact_store import LocalArtifactStore
from driftloop_registry.adapters.sql_connections import Database
from driftloop_registry.domain.artifact import ArtifactCorrupted
from driftloop_registry.service.ports import Upload

log = structlog.get_logger(__name__)


class DatabaseArtifactStore:
    """Implements the ``ArtifactStore`` port on the ``artifact_blobs`` table."""

    def __init__(self, db: Database, cache: LocalArtifactStore) -> None:
        self._db = db
        self._cache = cache

    def begin(self) -> Upload:
        return self._cache.begin()

    def keep(self, upload: Upload) -> str:
        sha = self._cache.keep(upload)
        data = self._cache.path_of(sha).read_bytes()
        with self._db.transaction(write=True) as cur:
            cur.execute(
                "INSERT INTO artifact_blobs (sha256, size, data) VALUES (?, ?, ?) "
                "ON CONFLICT (sha256) DO NOTHING",
                (sha, len(data), data),
            )
        return sha

    async def read_verified(self, sha256: str, size: int) -> bytes:
        try:
            return await self._cache.read_verified(sha256, size)
        except ArtifactCorrupted as exc:  # not on this disk (yet), or damaged
            log.info("artifact.cache_miss", sha256=sha256, reason=str(exc))
        data = await asyncio.to_thread(self._fetch, sha256)
        if data is None:
            raise ArtifactCorrupted(f"artifact {sha256} is missing from the database")
        got = hashlib.sha256(data).hexdigest()
        if got != sha256 or len(data) != size:
            raise ArtifactCorrupted(
                f"artifact {sha256} failed its checksum: the database's copy hashes to {got} "
                f"({len(data)} bytes, expected {size})"
            )
        await asyncio.to_thread(self._cache.put, sha256, data)
        return data

    def _fetch(self, sha256: str) -> bytes | None:
        with self._db.transaction(write=False) as cur:
            row = cur.execute("SELECT data FROM artifact_blobs WHERE sha256 = ?", (sha256,)).one()
        return None if row is None else bytes(row[0])
