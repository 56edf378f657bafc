"""The ports the use cases need; adapters implement them (SQL, files, a
vetting subprocess, the event bus) and tests use fakes."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from driftloop_registry.domain.model import (
    AliasChange,
    AliasWrite,
    ModelSummary,
    ModelVersion,
    Signature,
    VersionDraft,
)


@dataclass(frozen=True)
class Cause:
    """Why a change happens: the causing event and the chain it belongs to."""

    event_id: str = ""
    correlation_id: str = ""
    reason: str = ""


@dataclass(frozen=True)
class PendingEvent:
    """An outbox entry not yet published, with the committed fact it announces."""

    id: int
    event_id: str
    model: str
    causation_id: str
    correlation_id: str
    occurred_at: datetime
    version: ModelVersion | None = None
    # Set for alias changes; ``version`` is then the version now aliased (if any).
    change: AliasChange | None = None


Publish = Callable[[list[PendingEvent]], Coroutine[Any, Any, None]]


class Repository(Protocol):
    """Metadata storage. Every write commits its outbox entries in the same
    transaction, so an event exists exactly when its fact was committed."""

    async def migrate(self) -> None: ...

    async def close(self) -> None: ...

    async def add_version(
        self, draft: VersionDraft, sha256: str, size: int, signature: Signature
    ) -> ModelVersion:
        """Store a new version numbered latest + 1 (and its outbox entry)."""
        ...

    async def find_version_caused_by(self, model: str, event_id: str) -> ModelVersion | None: ...

    async def get_version(self, model: str, version: int) -> ModelVersion | None: ...

    async def list_versions(self, model: str) -> list[ModelVersion]: ...

    async def list_models(self) -> list[ModelSummary]: ...

    async def aliases(self, model: str) -> dict[str, int]: ...

    async def change_aliases(
        self,
        model: str,
        writes: Sequence[AliasWrite],
        cause: Cause,
        *,
        tags: dict[str, str] | None = None,
        tag_version: int = 0,
    ) -> list[AliasChange]:
        """Apply all writes atomically (each a compare-and-set when it has an
        expected version) or none: raise Conflict naming the alias that lost,
        NotFound for a version that does not exist. ``tags`` are merged into
        ``tag_version``'s tags in the same transaction."""
        ...

    async def alias_history(self, model: str, alias: str = "") -> list[AliasChange]:
        """Oldest first."""
        ...

    async def has_changes_caused_by(self, model: str, event_id: str) -> bool: ...

    async def pending_events(self, limit: int) -> list[PendingEvent]:
        """The oldest unpublished entries, read without claiming them."""
        ...

    async def publish_pending(self, limit: int, publish: Publish) -> int:
        """Claim up to ``limit`` of the oldest unpublished entries, ``publish``
        them and mark them published, all under one claim that no other
        replica's relay can take meanwhile (it gets 0). Returns how many went
        out; when ``publish`` raises, nothing is marked."""
        ...


class Upload(Protocol):
    """An artifact being received into a staging file."""

    path: Path
    size: int
    head: bytes

    def write(self, chunk: bytes) -> None: ...

    def sha256(self) -> str: ...

    def discard(self) -> None: ...


class ArtifactStore(Protocol):
    """Content-addressed artifact bytes."""

    def begin(self) -> Upload: ...

    def keep(self, upload: Upload) -> str:
        """Move a vetted upload into the store; returns its sha256."""
        ...

    async def read_verified(self, sha256: str, size: int) -> bytes:
        """The bytes, or ArtifactCorrupted when they do not match the checksum."""
        ...


class Vetter(Protocol):
    async def vet(self, path: Path, feature_width: int) -> Signature:
        """The model's signature, or InvalidArgument with the reason it is refused."""
        ...


class EventSink(Protocol):
    async def publish(self, events: Sequence[PendingEvent]) -> None:
        """Publish and wait for the broker's acknowledgement of every event."""
        ...
