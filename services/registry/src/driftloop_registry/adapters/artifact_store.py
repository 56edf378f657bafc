"""Content-addressed artifact files on the local filesystem:
``<root>/sha256/ab/abcdef...``. Uploads are staged under ``<root>/staging``
and moved into place only once vetted; every read re-checks the checksum."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from driftloop_registry.domain.artifact import ArtifactCorrupted
from driftloop_registry.service.ports import Upload

HEAD_BYTES = 512


class FileUpload:
    """An artifact being received into a staging file, hashed as it arrives."""

    def __init__(self, staging: Path) -> None:
        fd, name = tempfile.mkstemp(dir=staging, suffix=".upload")
        self._file = os.fdopen(fd, "wb")
        self.path = Path(name)
        self.size = 0
        self.head = b""
        self._hash = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        self._hash.update(chunk)
        self._file.write(chunk)
        self.size += len(chunk)

    def sha256(self) -> str:
        self._file.flush()
        os.fsync(self._file.fileno())
        return self._hash.hexdigest()

    def discard(self) -> None:
        """Remove the staging file (a no-op once it was kept)."""
        self._file.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class LocalArtifactStore:
    """Implements the ``ArtifactStore`` port."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging = root / "staging"
        self.staging.mkdir(parents=True, exist_ok=True)
        for stale in self.staging.glob("*.upload"):
            stale.unlink(missing_ok=True)

    def path_of(self, sha256: str) -> Path:
        return self.root / "sha256" / sha256[:2] / sha256

    def begin(self) -> FileUpload:
        return FileUpload(self.staging)

    def keep(self, upload: Upload) -> str:
        sha = upload.sha256()  # flushed and synced
        target = self.path_of(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() and _digest(target) == sha:
            upload.path.unlink(missing_ok=True)
        else:
            os.replace(upload.path, target)
        return sha

    def put(self, sha256: str, data: bytes) -> None:
        """Store bytes already verified to hash to ``sha256`` (a cache refill)."""
        fd, name = tempfile.mkstemp(dir=self.staging, suffix=".upload")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        target = self.path_of(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(name, target)

    async def read_verified(self, sha256: str, size: int) -> bytes:
        path = self.path_of(sha256)
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise ArtifactCorrupted(f"artifact {sha256} is missing from the store") from None
        got = hashlib.sha256(data).hexdigest()
        if got != sha256 or len(data) != size:
            raise ArtifactCorrupted(
                f"artifact {sha256} failed its checksum: the stored file hashes to {got} "
                f"({len(data)} bytes, expected {size})"
            )
        return data


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
