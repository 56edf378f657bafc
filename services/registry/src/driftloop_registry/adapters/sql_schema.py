"""Migrations of the registry's tables, per SQL dialect. Append new steps;
never edit a released one."""

from __future__ import annotations

_COMMON = """
CREATE TABLE models (
    name TEXT PRIMARY KEY,
    latest_version BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE versions (
    model TEXT NOT NULL REFERENCES models(name),
    version BIGINT NOT NULL,
    artifact_sha256 TEXT NOT NULL,
    artifact_size BIGINT NOT NULL,
    signature TEXT NOT NULL,
    metrics TEXT NOT NULL,
    tags TEXT NOT NULL,
    run_id TEXT NOT NULL,
    dataset_snapshot_id TEXT NOT NULL,
    parent_version BIGINT NOT NULL,
    feature_view TEXT NOT NULL,
    feature_view_version INTEGER NOT NULL,
    reference_profile {blob} NOT NULL,
    task INTEGER NOT NULL,
    description TEXT NOT NULL,
    caused_by_event_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (model, version)
);
CREATE INDEX versions_caused_by ON versions (model, caused_by_event_id);
CREATE TABLE aliases (
    model TEXT NOT NULL REFERENCES models(name),
    alias TEXT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (model, alias)
);
CREATE TABLE alias_history (
    seq {serial},
    model TEXT NOT NULL,
    alias TEXT NOT NULL,
    version BIGINT NOT NULL,
    previous_version BIGINT NOT NULL,
    reason TEXT NOT NULL,
    caused_by_event_id TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);
CREATE INDEX alias_history_model ON alias_history (model, alias, seq);
CREATE INDEX alias_history_cause ON alias_history (model, caused_by_event_id);
CREATE TABLE outbox (
    id {serial},
    event_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    model TEXT NOT NULL,
    version BIGINT NOT NULL,
    history_seq BIGINT NOT NULL,
    causation_id TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    published_at BIGINT
);
CREATE INDEX outbox_pending ON outbox (published_at, id)
"""

SQLITE = {"blob": "BLOB", "serial": "INTEGER PRIMARY KEY AUTOINCREMENT"}
POSTGRES = {"blob": "BYTEA", "serial": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"}


_ARTIFACT_BLOBS = """
CREATE TABLE artifact_blobs (
    sha256 TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    data {blob} NOT NULL
)
"""


def migrations(types: dict[str, str]) -> list[list[str]]:
    """Each migration is a list of statements; its number is its index + 1."""
    first = [s.strip() for s in _COMMON.format(**types).split(";") if s.strip()]
    # 2: artifacts in the database (used with PostgreSQL: db_artifact_store).
    return [first, [_ARTIFACT_BLOBS.format(**types).strip()]]
