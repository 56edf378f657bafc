"""The metadata repository on SQL (SQLite or PostgreSQL, same queries).

Writes on one model serialise on its ``models`` row (``FOR UPDATE`` in
PostgreSQL, the database write lock in SQLite): version numbering and every
alias compare-and-set read and write under that lock. Each write also inserts
its outbox row in the same transaction."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from driftloop.platform.envelope import new_id
from driftloop.platform.errors import Conflict, NotFound
from driftloop_registry.adapters import sql_schema
from driftloop_registry.adapters.sql_connections import Cursor, Database
from driftloop_registry.domain.model import (
    AliasChange,
    AliasWrite,
    ModelSummary,
    ModelVersion,
    Signature,
    TaskKind,
    TensorSpec,
    VersionDraft,
)
from driftloop_registry.service.ports import Cause, PendingEvent, Publish

T = TypeVar("T")

_VERSION_COLUMNS = (
    "model, version, artifact_sha256, artifact_size, signature, metrics, tags, run_id, "
    "dataset_snapshot_id, parent_version, feature_view, feature_view_version, "
    "reference_profile, task, description, caused_by_event_id, created_at"
)
_HISTORY_COLUMNS = (
    "model, alias, version, previous_version, reason, caused_by_event_id, changed_at, seq"
)


def _now_us() -> int:
    return time.time_ns() // 1000


def _dt(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1e6, tz=UTC)


class SqlRepository:
    """Implements the ``Repository`` port."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _run(self, fn: Callable[[Cursor], T], *, write: bool) -> T:
        def work() -> T:
            with self.db.transaction(write) as cur:
                return fn(cur)

        return await asyncio.to_thread(work)

    async def ping(self) -> bool:
        """Whether the database answers (a readiness check)."""
        return await self._run(lambda cur: cur.execute("SELECT 1").one() == (1,), write=False)

    async def migrate(self) -> None:
        def work(cur: Cursor) -> None:
            self.db.migrate_prelude(cur)
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)"
            )
            applied = {r[0] for r in cur.execute("SELECT version FROM schema_migrations").all()}
            for number, statements in enumerate(sql_schema.migrations(self.db.types), 1):
                if number in applied:
                    continue
                for statement in statements:
                    cur.execute(statement)
                cur.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    (number, _now_us()),
                )

        await self._run(work, write=True)

    async def close(self) -> None:
        await asyncio.to_thread(self.db.close)

    # -- versions -------------------------------------------------------------

    async def add_version(
        self, draft: VersionDraft, sha256: str, size: int, signature: Signature
    ) -> ModelVersion:
        def work(cur: Cursor) -> ModelVersion:
            now = _now_us()
            cur.execute(
                "INSERT INTO models (name, latest_version, created_at) VALUES (?, 0, ?) "
                "ON CONFLICT (name) DO NOTHING",
                (draft.model, now),
            )
            latest = self._lock_model(cur, draft.model)
            if draft.caused_by_event_id:
                # A concurrent retry of the same registration won the lock first.
                row = cur.execute(
                    "SELECT version FROM versions WHERE model = ? AND caused_by_event_id = ? "
                    "ORDER BY version LIMIT 1",
                    (draft.model, draft.caused_by_event_id),
                ).one()
                if row is not None:
                    existing = self._version(cur, draft.model, row[0])
                    assert existing is not None
                    return existing
            number = latest + 1
            cur.execute(
                "UPDATE models SET latest_version = ? WHERE name = ?", (number, draft.model)
            )
            cur.execute(
                f"INSERT INTO versions ({_VERSION_COLUMNS}) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    draft.model,
                    number,
                    sha256,
                    size,
                    _signature_json(signature),
                    json.dumps(draft.metrics, sort_keys=True),
                    json.dumps(draft.tags, sort_keys=True),
                    draft.run_id,
                    draft.dataset_snapshot_id,
                    draft.parent_version,
                    draft.feature_view,
                    draft.feature_view_version,
                    draft.reference_profile,
                    int(draft.task),
                    draft.description,
                    draft.caused_by_event_id,
                    now,
                ),
            )
            cause = Cause(
                draft.caused_by_event_id, draft.correlation_id or draft.caused_by_event_id
            )
            self._outbox(cur, "version", draft.model, number, 0, cause, now)
            found = self._version(cur, draft.model, number)
            assert found is not None
            return found

        return await self._run(work, write=True)

    async def find_version_caused_by(self, model: str, event_id: str) -> ModelVersion | None:
        def work(cur: Cursor) -> ModelVersion | None:
            row = cur.execute(
                "SELECT version FROM versions WHERE model = ? AND caused_by_event_id = ? "
                "ORDER BY version LIMIT 1",
                (model, event_id),
            ).one()
            return self._version(cur, model, row[0]) if row else None

        return await self._run(work, write=False)

    async def get_version(self, model: str, version: int) -> ModelVersion | None:
        return await self._run(lambda cur: self._version(cur, model, version), write=False)

    async def list_versions(self, model: str) -> list[ModelVersion]:
        def work(cur: Cursor) -> list[ModelVersion]:
            aliases = self._aliases(cur, model)
            rows = cur.execute(
                f"SELECT {_VERSION_COLUMNS} FROM versions WHERE model = ? ORDER BY version",
                (model,),
            ).all()
            return [_version_from(row, aliases) for row in rows]

        return await self._run(work, write=False)

    async def list_models(self) -> list[ModelSummary]:
        def work(cur: Cursor) -> list[ModelSummary]:
            aliases: dict[str, dict[str, int]] = {}
            for model, alias, version in cur.execute(
                "SELECT model, alias, version FROM aliases"
            ).all():
                aliases.setdefault(model, {})[alias] = version
            rows = cur.execute("SELECT name, latest_version FROM models ORDER BY name").all()
            return [ModelSummary(n, v, aliases.get(n, {})) for n, v in rows]

        return await self._run(work, write=False)

    # -- aliases --------------------------------------------------------------

    async def aliases(self, model: str) -> dict[str, int]:
        return await self._run(lambda cur: self._aliases(cur, model), write=False)

    async def change_aliases(
        self,
        model: str,
        writes: Sequence[AliasWrite],
        cause: Cause,
        *,
        tags: dict[str, str] | None = None,
        tag_version: int = 0,
    ) -> list[AliasChange]:
        def work(cur: Cursor) -> list[AliasChange]:
            self._lock_model(cur, model)
            current = self._aliases(cur, model)
            changes = []
            now = _now_us()
            for w in writes:
                previous = current.get(w.alias, 0)
                if w.expected is not None and previous != w.expected:
                    raise Conflict(
                        f"alias {w.alias!r} of model {model!r} points at "
                        f"{_describe(previous)}, not {_describe(w.expected)}"
                    )
                if w.version == 0 and previous == 0:
                    raise NotFound(f"alias: model {model!r} has no alias {w.alias!r}")
                if w.version and not self._exists(cur, model, w.version):
                    raise NotFound(f"version: model {model!r} has no version {w.version}")
                if w.version == 0:
                    cur.execute(
                        "DELETE FROM aliases WHERE model = ? AND alias = ?", (model, w.alias)
                    )
                else:
                    cur.execute(
                        "INSERT INTO aliases (model, alias, version) VALUES (?, ?, ?) "
                        "ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version",
                        (model, w.alias, w.version),
                    )
                row = cur.execute(
                    "INSERT INTO alias_history (model, alias, version, previous_version, "
                    "reason, caused_by_event_id, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "RETURNING seq",
                    (model, w.alias, w.version, previous, cause.reason, cause.event_id, now),
                ).one()
                assert row is not None
                current[w.alias] = w.version
                self._outbox(cur, "alias", model, w.version, row[0], cause, now)
                changes.append(
                    AliasChange(
                        model,
                        w.alias,
                        w.version,
                        previous,
                        cause.reason,
                        cause.event_id,
                        _dt(now),
                        row[0],
                    )
                )
            if tags and tag_version:
                self._merge_tags(cur, model, tag_version, tags)
            return changes

        return await self._run(work, write=True)

    async def alias_history(self, model: str, alias: str = "") -> list[AliasChange]:
        def work(cur: Cursor) -> list[AliasChange]:
            query = f"SELECT {_HISTORY_COLUMNS} FROM alias_history WHERE model = ?"
            params: tuple[Any, ...] = (model,)
            if alias:
                query += " AND alias = ?"
                params += (alias,)
            return [_change_from(r) for r in cur.execute(query + " ORDER BY seq", params).all()]

        return await self._run(work, write=False)

    async def has_changes_caused_by(self, model: str, event_id: str) -> bool:
        def work(cur: Cursor) -> bool:
            return (
                cur.execute(
                    "SELECT 1 FROM alias_history WHERE model = ? AND caused_by_event_id = ? "
                    "LIMIT 1",
                    (model, event_id),
                ).one()
                is not None
            )

        return await self._run(work, write=False)

    # -- outbox ---------------------------------------------------------------

    async def pending_events(self, limit: int) -> list[PendingEvent]:
        return await self._run(lambda cur: self._pending(cur, limit), write=False)

    async def publish_pending(self, limit: int, publish: Publish) -> int:
        loop = asyncio.get_running_loop()

        def work(cur: Cursor) -> int:
            # The claim and the rows stay held until ``publish`` returned and
            # the rows are marked, so no other replica's relay sees them.
            if not self.db.claim_outbox(cur):
                return 0
            events = self._pending(cur, limit)
            if events:
                asyncio.run_coroutine_threadsafe(publish(events), loop).result()
                now = _now_us()
                for event in events:
                    cur.execute("UPDATE outbox SET published_at = ? WHERE id = ?", (now, event.id))
            return len(events)

        return await self._run(work, write=True)

    # -- helpers (inside a transaction) ---------------------------------------

    def _pending(self, cur: Cursor, limit: int) -> list[PendingEvent]:
        rows = cur.execute(
            "SELECT id, event_id, kind, model, version, history_seq, causation_id, "
            "correlation_id, created_at FROM outbox WHERE published_at IS NULL "
            "ORDER BY id LIMIT ?",
            (limit,),
        ).all()
        out = []
        for id_, event_id, kind, model, version, seq, causation, correlation, at in rows:
            change = None
            if kind == "alias":
                hist = cur.execute(
                    f"SELECT {_HISTORY_COLUMNS} FROM alias_history WHERE seq = ?", (seq,)
                ).one()
                change = _change_from(hist) if hist else None
            mv = self._version(cur, model, version) if version else None
            out.append(
                PendingEvent(id_, event_id, model, causation, correlation, _dt(at), mv, change)
            )
        return out

    def _lock_model(self, cur: Cursor, model: str) -> int:
        row = cur.execute(
            "SELECT latest_version FROM models WHERE name = ?" + self.db.lock_rows, (model,)
        ).one()
        if row is None:
            raise NotFound(f"model: {model!r} is not registered")
        return int(row[0])

    def _aliases(self, cur: Cursor, model: str) -> dict[str, int]:
        rows = cur.execute("SELECT alias, version FROM aliases WHERE model = ?", (model,)).all()
        return {a: int(v) for a, v in rows}

    def _exists(self, cur: Cursor, model: str, version: int) -> bool:
        return (
            cur.execute(
                "SELECT 1 FROM versions WHERE model = ? AND version = ?", (model, version)
            ).one()
            is not None
        )

    def _version(self, cur: Cursor, model: str, version: int) -> ModelVersion | None:
        row = cur.execute(
            f"SELECT {_VERSION_COLUMNS} FROM versions WHERE model = ? AND version = ?",
            (model, version),
        ).one()
        return _version_from(row, self._aliases(cur, model)) if row else None

    def _merge_tags(self, cur: Cursor, model: str, version: int, tags: dict[str, str]) -> None:
        row = cur.execute(
            "SELECT tags FROM versions WHERE model = ? AND version = ?", (model, version)
        ).one()
        if row is None:
            return
        merged = {**json.loads(row[0]), **tags}
        cur.execute(
            "UPDATE versions SET tags = ? WHERE model = ? AND version = ?",
            (json.dumps(merged, sort_keys=True), model, version),
        )

    def _outbox(
        self, cur: Cursor, kind: str, model: str, version: int, seq: int, cause: Cause, now: int
    ) -> None:
        cur.execute(
            "INSERT INTO outbox (event_id, kind, model, version, history_seq, causation_id, "
            "correlation_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (new_id(), kind, model, version, seq, cause.event_id, cause.correlation_id, now),
        )


def _describe(version: int) -> str:
    return f"version {version}" if version else "nothing"


def _signature_json(signature: Signature) -> str:
    def specs(items: tuple[TensorSpec, ...]) -> list[dict[str, Any]]:
        return [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in items]

    return json.dumps({"inputs": specs(signature.inputs), "outputs": specs(signature.outputs)})


def _signature_from(text: str) -> Signature:
    data = json.loads(text)

    def specs(items: list[dict[str, Any]]) -> tuple[TensorSpec, ...]:
        return tuple(TensorSpec(t["name"], t["datatype"], tuple(t["shape"])) for t in items)

    return Signature(specs(data["inputs"]), specs(data["outputs"]))


def _version_from(row: tuple[Any, ...], aliases: dict[str, int]) -> ModelVersion:
    (model, version, sha, size, signature, metrics, tags, run_id, snapshot, parent, view,
     view_version, profile, task, description, caused_by, created_at) = row  # fmt: skip
    return ModelVersion(
        model=model,
        version=int(version),
        artifact_sha256=sha,
        artifact_size=int(size),
        signature=_signature_from(signature),
        created_at=_dt(created_at),
        metrics=json.loads(metrics),
        tags=json.loads(tags),
        run_id=run_id,
        dataset_snapshot_id=snapshot,
        parent_version=int(parent),
        feature_view=view,
        feature_view_version=int(view_version),
        reference_profile=bytes(profile),
        task=TaskKind(task) if task in TaskKind._value2member_map_ else TaskKind.UNSPECIFIED,
        description=description,
        caused_by_event_id=caused_by,
        aliases=tuple(sorted(a for a, v in aliases.items() if v == version)),
    )


def _change_from(row: tuple[Any, ...]) -> AliasChange:
    model, alias, version, previous, reason, caused_by, changed_at, seq = row
    return AliasChange(
        model, alias, int(version), int(previous), reason, caused_by, _dt(changed_at), int(seq)
    )
