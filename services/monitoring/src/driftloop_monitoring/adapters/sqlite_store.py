"""The state store on SQLite: what must survive a kill -9.

Kept: the model catalog (versions with reference profiles, aliases), the
label-join buffer (waiting predictions, held labels, keys already joined),
rollouts, and drift cooldowns. Changes are queued as they happen and
written and committed by ``flush``, which the subscribers run after each fetched batch
and before its offsets are committed, so a crash loses nothing that Kafka
will not redeliver. WAL with ``synchronous=NORMAL``: a process crash loses
nothing; only a power loss may lose the last commits.

Not kept (rebuilt from the stream): quality windows, streaming detector
state and the open data-drift window.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path
from typing import Any

from driftloop_monitoring.domain.canary import Evidence, Rollout, Side
from driftloop_monitoring.domain.join import JoinBuffer, Key
from driftloop_monitoring.domain.model import Histogram, Label, ModelState, Prediction, VersionInfo
from driftloop_monitoring.domain.paired import Paired

SCHEMA = """
CREATE TABLE IF NOT EXISTS models (name TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rollouts (model TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cooldowns (model TEXT PRIMARY KEY, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS pending_predictions (
  record_id TEXT, model TEXT, version INTEGER, arrived REAL, body TEXT,
  PRIMARY KEY (record_id, model, version));
CREATE TABLE IF NOT EXISTS held_labels (
  record_id TEXT PRIMARY KEY, arrived REAL, matched INTEGER, body TEXT);
CREATE TABLE IF NOT EXISTS joined (
  record_id TEXT, model TEXT, version INTEGER, at REAL,
  PRIMARY KEY (record_id, model, version));
"""


class _Buffer(JoinBuffer):
    """The join buffer, with its changes queued and written by ``write``:
    a prediction that arrives and joins between two flushes is never written,
    and each flush is a few ``executemany`` calls."""

    def __init__(self, db: sqlite3.Connection) -> None:
        super().__init__()
        self._db = db
        self._preds: dict[Key, tuple | None] = {}
        self._labels: dict[str, tuple | None] = {}
        self._joined: dict[Key, float | None] = {}

    def put_prediction(self, p: Prediction, arrived: float) -> None:
        super().put_prediction(p, arrived)
        self._preds[p.key] = (*p.key, arrived, _dump_prediction(p))

    def pop_prediction(self, key: Key) -> Prediction:
        self._preds[key] = None
        return super().pop_prediction(key)

    def put_label(self, label: Label, arrived: float, matched: bool) -> None:
        super().put_label(label, arrived, matched)
        body = json.dumps([label.record_id, label.value, label.at, label.event_id])
        self._labels[label.record_id] = (label.record_id, arrived, int(matched), body)

    def drop_label(self, record_id: str) -> None:
        super().drop_label(record_id)
        self._labels[record_id] = None

    def mark_joined(self, key: Key, at: float) -> None:
        super().mark_joined(key, at)
        self._joined[key] = at

    def drop_joined(self, key: Key) -> None:
        super().drop_joined(key)
        self._joined[key] = None

    def write(self) -> None:
        db = self._db
        for table, ops, cols in (
            ("pending_predictions", self._preds, "record_id=? AND model=? AND version=?"),
            ("held_labels", self._labels, "record_id=?"),
            ("joined", self._joined, "record_id=? AND model=? AND version=?"),
        ):
            if not ops:
                continue
            gone = [k if isinstance(k, tuple) else (k,) for k, v in ops.items() if v is None]
            if table == "joined":
                rows = [(*k, v) for k, v in ops.items() if v is not None]
            else:
                rows = [v for v in ops.values() if isinstance(v, tuple)]
            if gone:
                db.executemany(f"DELETE FROM {table} WHERE {cols}", gone)
            if rows:
                marks = ",".join("?" * len(rows[0]))
                db.executemany(f"INSERT OR REPLACE INTO {table} VALUES ({marks})", rows)
            ops.clear()

    def load(self) -> None:
        for _, _, _, arrived, body in self._db.execute("SELECT * FROM pending_predictions"):
            JoinBuffer.put_prediction(self, _load_prediction(body), arrived)
        for _, arrived, matched, body in self._db.execute("SELECT * FROM held_labels"):
            JoinBuffer.put_label(self, Label(*json.loads(body)), arrived, bool(matched))
        for rid, model, version, at in self._db.execute("SELECT * FROM joined"):
            JoinBuffer.mark_joined(self, (rid, model, version), at)


def _dump_prediction(p: Prediction) -> str:
    return json.dumps(
        [
            p.record_id,
            p.model,
            p.version,
            p.role,
            p.prediction,
            p.probabilities,
            p.latency_ms,
            p.at,
            p.feature_names,
            p.features,
            p.event_id,
        ]
    )


def _load_prediction(body: str) -> Prediction:
    d = json.loads(body)
    for i in (5, 8, 9):
        d[i] = tuple(d[i])
    return Prediction(*d)


def _histogram(d: dict[str, Any] | None) -> Histogram | None:
    if d is None:
        return None
    return Histogram(d["name"], tuple(d["counts"]), tuple(d["edges"]), tuple(d["categories"]))


def _version(d: dict[str, Any]) -> VersionInfo:
    return VersionInfo(
        model=d["model"],
        version=d["version"],
        task=d["task"],
        feature_view=d["feature_view"],
        features=tuple(h for h in map(_histogram, d["features"]) if h is not None),
        prediction=_histogram(d["prediction"]),
    )


def _rollout(d: dict[str, Any]) -> Rollout:
    d["cand"], d["champ"] = Side(**d["cand"]), Side(**d["champ"])
    if "paired" in d:  # rollouts saved before paired evidence have none
        d["paired"] = Paired(**d["paired"])
    if d["last_evidence"] is not None:
        d["last_evidence"] = Evidence(**d["last_evidence"])
    return Rollout(**d)


class SqliteStore:
    """The monitoring service's durable state in one SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level="DEFERRED", check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self.buffer = _Buffer(self._db)
        self.buffer.load()

    def load_models(self) -> dict[str, ModelState]:
        out = {}
        for name, body in self._db.execute("SELECT name, body FROM models"):
            d = json.loads(body)
            versions = {int(v): _version(x) for v, x in d["versions"].items()}
            out[name] = ModelState(name, d["champion"], d["candidate"], versions)
        return out

    def save_model(self, state: ModelState) -> None:
        body = json.dumps(dataclasses.asdict(state))
        self._db.execute("INSERT OR REPLACE INTO models VALUES (?,?)", (state.name, body))

    def load_rollouts(self) -> dict[str, Rollout]:
        return {m: _rollout(json.loads(b)) for m, b in self._db.execute("SELECT * FROM rollouts")}

    def save_rollout(self, rollout: Rollout) -> None:
        body = json.dumps(dataclasses.asdict(rollout))
        self._db.execute("INSERT OR REPLACE INTO rollouts VALUES (?,?)", (rollout.model, body))

    def load_cooldowns(self) -> dict[str, float]:
        return dict(self._db.execute("SELECT model, at FROM cooldowns"))

    def save_cooldown(self, model: str, at: float) -> None:
        self._db.execute("INSERT OR REPLACE INTO cooldowns VALUES (?,?)", (model, at))

    def flush(self) -> None:
        self.buffer.write()
        self._db.commit()

    def close(self) -> None:
        self.flush()
        self._db.close()
