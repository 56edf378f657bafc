"""The registry's use cases: register vetted versions, read them, move aliases
with compare-and-set, answer lineage and alias history, and carry out rollout
decisions. Transport-free; the ports come in through the constructor."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

from driftloop.platform.errors import InvalidArgument, NotFound
from driftloop_registry.domain.artifact import foreign_format
from driftloop_registry.domain.model import (
    AliasChange,
    AliasWrite,
    ModelSummary,
    ModelVersion,
    VersionDraft,
    VersionFilter,
    check_alias_name,
    check_model_name,
)
from driftloop_registry.domain.rollout import ROLLED_BACK_TAG, RolloutDecision, alias_writes
from driftloop_registry.service.ports import ArtifactStore, Cause, Repository, Vetter

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Limits:
    max_artifact_bytes: int


class Registry:
    """Every use case of the registry. ``on_commit`` runs after each committed
    change (the composition root wakes the outbox relay with it)."""

    def __init__(
        self,
        repo: Repository,
        store: ArtifactStore,
        vetter: Vetter,
        limits: Limits,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self.repo = repo
        self.store = store
        self.vetter = vetter
        self.limits = limits
        self.on_commit = on_commit

    async def register(self, draft: VersionDraft, chunks: AsyncIterator[bytes]) -> ModelVersion:
        """Receive, vet and store an artifact, then record the version. A
        rejected artifact raises InvalidArgument and leaves nothing behind."""
        draft.validate()
        if draft.caused_by_event_id:
            # A retried registration (same causing event) returns the first one.
            same = await self.repo.find_version_caused_by(draft.model, draft.caused_by_event_id)
            if same is not None:
                async for _ in chunks:
                    pass
                return same
        if draft.parent_version:
            await self._require_version(draft.model, draft.parent_version, "parent_version")
        upload = self.store.begin()
        try:
            async for chunk in chunks:
                if upload.size + len(chunk) > self.limits.max_artifact_bytes:
                    raise InvalidArgument(
                        f"artifact: larger than the limit of {self.limits.max_artifact_bytes} bytes"
                    )
                upload.write(chunk)
            if upload.size == 0:
                raise InvalidArgument("artifact: no bytes were sent")
            sha256 = upload.sha256()
            if draft.expected_sha256 and draft.expected_sha256 != sha256:
                raise InvalidArgument(
                    f"expected_sha256: the artifact's sha256 is {sha256}, "
                    f"not {draft.expected_sha256}"
                )
            if what := foreign_format(upload.head):
                raise InvalidArgument(f"artifact: not ONNX, it is {what}")
            signature = await self.vetter.vet(upload.path, draft.feature_width)
            self.store.keep(upload)
        finally:
            upload.discard()
        version = await self.repo.add_version(draft, sha256, upload.size, signature)
        self.on_commit()
        log.info(
            "model_version.registered",
            model=version.model,
            version=version.version,
            sha256=sha256,
            size=version.artifact_size,
        )
        return version

    async def get_version(self, model: str, version: int = 0, alias: str = "") -> ModelVersion:
        check_model_name(model)
        if alias:
            check_alias_name(alias)
            current = (await self.repo.aliases(model)).get(alias)
            if current is None:
                raise NotFound(f"model {model!r} has no alias {alias!r}")
            version = current
        if version <= 0:
            raise InvalidArgument("version: give a version number > 0 or an alias")
        return await self._require_version(model, version, "version")

    async def list_models(self) -> list[ModelSummary]:
        return await self.repo.list_models()

    async def list_versions(self, model: str, where: VersionFilter) -> list[ModelVersion]:
        check_model_name(model)
        return [v for v in await self.repo.list_versions(model) if where.matches(v)]

    async def set_alias(
        self, model: str, alias: str, version: int, expected: int | None, cause: Cause
    ) -> AliasChange:
        check_model_name(model)
        check_alias_name(alias)
        if version <= 0:
            raise InvalidArgument("version: must be > 0 (DeleteAlias removes an alias)")
        if expected is not None and expected < 0:
            raise InvalidArgument(f"expected_version: {expected} is negative")
        return await self._write(model, AliasWrite(alias, version, expected), cause)

    async def delete_alias(
        self, model: str, alias: str, expected: int | None, cause: Cause
    ) -> AliasChange:
        check_model_name(model)
        check_alias_name(alias)
        return await self._write(model, AliasWrite(alias, 0, expected), cause)

    async def artifact(self, model: str, version: int) -> tuple[ModelVersion, bytes]:
        """A version and its artifact bytes, verified against the checksum."""
        found = await self.get_version(model, version)
        data = await self.store.read_verified(found.artifact_sha256, found.artifact_size)
        return found, data

    async def lineage(self, model: str, version: int) -> list[ModelVersion]:
        """The version and its ancestors through ``parent_version``, newest first."""
        chain = [await self.get_version(model, version)]
        seen = {version}
        while (parent := chain[-1].parent_version) and parent not in seen:
            seen.add(parent)
            found = await self.repo.get_version(model, parent)
            if found is None:
                break
            chain.append(found)
        return chain

    async def alias_history(
        self, model: str, alias: str = "", at: datetime | None = None
    ) -> tuple[list[AliasChange], AliasChange | None]:
        """Every change (oldest first) and, with ``at``, the one in force then."""
        check_model_name(model)
        if alias:
            check_alias_name(alias)
        if at is not None and not alias:
            raise InvalidArgument("alias: required when `at` is given")
        entries = await self.repo.alias_history(model, alias)
        in_force = None
        if at is not None:
            for entry in entries:
                if entry.changed_at <= at:
                    in_force = entry
        return entries, in_force

    async def apply_rollout(self, decision: RolloutDecision) -> list[AliasChange]:
        """Carry out a monitoring decision once, however often it is delivered."""
        if await self.repo.has_changes_caused_by(decision.model, decision.event_id):
            log.info("rollout.already_applied", model=decision.model, event_id=decision.event_id)
            return []
        writes = alias_writes(decision, await self.repo.aliases(decision.model))
        kind = "promote" if decision.promote else "rollback"
        cause = Cause(
            decision.event_id, decision.correlation_id, f"rollout {kind}: {decision.reason}"
        )
        tags = None if decision.promote else {ROLLED_BACK_TAG: "true"}
        changes = await self.repo.change_aliases(
            decision.model, writes, cause, tags=tags, tag_version=decision.candidate_version
        )
        self.on_commit()
        log.info(
            "rollout.applied",
            model=decision.model,
            verdict=kind,
            candidate=decision.candidate_version,
            changes=len(changes),
        )
        return changes

    async def _write(self, model: str, write: AliasWrite, cause: Cause) -> AliasChange:
        (change,) = await self.repo.change_aliases(model, [write], cause)
        self.on_commit()
        log.info(
            "alias.changed",
            model=model,
            alias=change.alias,
            version=change.version,
            previous=change.previous_version,
        )
        return change

    async def _require_version(self, model: str, version: int, what: str) -> ModelVersion:
        found = await self.repo.get_version(model, version)
        if found is None:
            raise NotFound(f"{what}: model {model!r} has no version {version}")
        return found
