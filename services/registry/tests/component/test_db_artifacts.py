"""Artifacts in the database: a registry on a fresh disk (an empty artifacts
directory) still serves every version, from the shared blobs table; a damaged
copy in the database is refused. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

import pytest

from driftloop_registry.adapters.artifact_store import LocalArtifactStore
from driftloop_registry.adapters.db_artifact_store import DatabaseArtifactStore
from driftloop_registry.adapters.sql_repository import SqlRepository
from driftloop_registry.domain.artifact import ArtifactCorrupted


async def test_a_fresh_disk_reads_every_artifact_from_the_database(database, tmp_path, models):
    db = database()
    await SqlRepository(db).migrate()
    data = models.linear()
    first = DatabaseArtifactStore(db, LocalArtifactStore(tmp_path / "pod-1"))
    upload = first.begin()
    upload.write(data)
    sha = first.keep(upload)
    upload.discard()
    assert sha == hashlib.sha256(data).hexdigest()

    fresh_disk = LocalArtifactStore(tmp_path / "pod-2")
    second = DatabaseArtifactStore(db, fresh_disk)
    assert not fresh_disk.path_of(sha).exists()
    assert await second.read_verified(sha, len(data)) == data
    assert fresh_disk.path_of(sha).read_bytes() == data  # the cache refilled

    with db.transaction(write=True) as cur:
        cur.execute("UPDATE artifact_blobs SET data = ? WHERE sha256 = ?", (b"tampered", sha))
    third = DatabaseArtifactStore(db, LocalArtifactStore(tmp_path / "pod-3"))
    with pytest.raises(ArtifactCorrupted, match="failed its checksum"):
        await third.read_verified(sha, len(data))
    with pytest.raises(ArtifactCorrupted, match="missing"):
        await third.read_verified("0" * 64, 1)
