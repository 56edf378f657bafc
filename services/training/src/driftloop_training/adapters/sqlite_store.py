"""The offline store and run history in one SQLite file: feature vectors and
labels (joined by record id whichever comes first), dataset snapshots
(materialized as ``.npz`` files so retention never changes them), runs and
the drift ids already seen."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from driftloop_training.domain.dataset import Frame, LabelledRow
from driftloop_training.domain.runs import Run, RunState, Snapshot, Trigger, Window

SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
  record_id TEXT NOT NULL, view TEXT NOT NULL, view_version INTEGER NOT NULL,
  entity_id TEXT NOT NULL, event_time REAL NOT NULL, names TEXT NOT NULL,
  vals BLOB NOT NULL, received_at REAL NOT NULL,
  PRIMARY KEY (record_id, view, view_version));
CREATE INDEX IF NOT EXISTS vectors_time ON vectors (view, view_version, event_time);
CREATE TABLE IF NOT EXISTS labels (
  record_id TEXT PRIMARY KEY, label_num REAL, label_str TEXT,
  label_time REAL NOT NULL, received_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  run_id TEXT PRIMARY KEY, model TEXT NOT NULL, state INTEGER NOT NULL,
  created_at REAL NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS runs_model ON runs (model, created_at);
CREATE TABLE IF NOT EXISTS drift_seen (
  model TEXT NOT NULL, drift_id TEXT NOT NULL, seen_at REAL NOT NULL,
  PRIMARY KEY (model, drift_id));
CREATE TABLE IF NOT EXISTS snapshots (snapshot_id TEXT PRIMARY KEY, body TEXT NOT NULL);
"""


def _ts(dt: datetime) -> float:
    return dt.timestamp()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class SqliteStore:
    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "snapshots").mkdir(exist_ok=True)
        self.db = sqlite3.connect(self.dir / "training.db", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # --- offline dataset -------------------------------------------------

    def put_vector(
        self,
        record_id: str,
        view: str,
        view_version: int,
        entity_id: str,
        event_time: datetime,
        names: list[str],
        values: list[float],
        now: datetime,
    ) -> None:
        """Idempotent: a recomputed vector (same record, view, version) replaces the old."""
        self.db.execute(
            "INSERT OR REPLACE INTO vectors VALUES (?,?,?,?,?,?,?,?)",
            (
                record_id,
                view,
                view_version,
                entity_id,
                _ts(event_time),
                json.dumps(names),
                np.asarray(values, dtype=np.float64).tobytes(),
                _ts(now),
            ),
        )

    def put_label(
        self, record_id: str, label: float | str, label_time: datetime, now: datetime
    ) -> None:
        """Idempotent; a later correction (newer label time) wins."""
        num, text = (None, label) if isinstance(label, str) else (float(label), None)
        self.db.execute(
            "INSERT INTO labels VALUES (?,?,?,?,?) ON CONFLICT(record_id) DO UPDATE SET "
            "label_num=excluded.label_num, label_str=excluded.label_str, "
            "label_time=excluded.label_time, received_at=excluded.received_at "
            "WHERE excluded.label_time >= labels.label_time",
            (record_id, num, text, _ts(label_time), _ts(now)),
        )

    def labelled_rows(self, view: str, view_version: int) -> list[LabelledRow]:
        """Every vector of the view version that has a label, by event time."""
        # Each vector's place in its entity's history (over every stored
        # vector, labelled or not): the reference profile skips warm-up rows.
        cur = self.db.execute(
            "SELECT v.record_id, v.event_time, v.vals, l.label_num, l.label_str, v.seq, v.age "
            "FROM (SELECT record_id, event_time, vals, "
            "ROW_NUMBER() OVER (PARTITION BY entity_id ORDER BY event_time, record_id) - 1 "
            "AS seq, event_time - MIN(event_time) OVER (PARTITION BY entity_id) AS age "
            "FROM vectors WHERE view = ? AND view_version = ?) v "
            "JOIN labels l ON l.record_id = v.record_id ORDER BY v.event_time, v.record_id",
            (view, view_version),
        )
        return [
            LabelledRow(
                record_id=rid,
                event_time=_dt(t),
                values=tuple(np.frombuffer(vals, dtype=np.float64).tolist()),
                label=text if text is not None else num,
                entity_seq=int(seq),
                entity_age_s=float(age),
            )
            for rid, t, vals, num, text, seq, age in cur
        ]

    def count_labelled(self, view: str, view_version: int, since: datetime | None = None) -> int:
        """Labelled rows of the view version, optionally only those joined after ``since``."""
        sql = (
            "SELECT COUNT(*) FROM vectors v JOIN labels l ON l.record_id = v.record_id "
            "WHERE v.view = ? AND v.view_version = ?"
        )
        args: list[Any] = [view, view_version]
        if since is not None:
            sql += " AND MAX(v.received_at, l.received_at) > ?"
            args.append(_ts(since))
        return int(self.db.execute(sql, args).fetchone()[0])

    def feature_names(self, view: str, view_version: int) -> list[str]:
        row = self.db.execute(
            "SELECT names FROM vectors WHERE view = ? AND view_version = ? "
            "ORDER BY event_time DESC LIMIT 1",
            (view, view_version),
        ).fetchone()
        return json.loads(row[0]) if row else []

    def prune(self, now: datetime, max_age_s: float, max_rows: int) -> int:
        """Retention: drop vectors and labels older than ``max_age_s`` (by event
        time / arrival) and keep at most ``max_rows`` newest vectors."""
        cutoff = _ts(now) - max_age_s
        n = self.db.execute("DELETE FROM vectors WHERE event_time < ?", (cutoff,)).rowcount
        n += self.db.execute("DELETE FROM labels WHERE received_at < ?", (cutoff,)).rowcount
        n += self.db.execute(
            "DELETE FROM vectors WHERE rowid IN (SELECT rowid FROM vectors "
            "ORDER BY event_time DESC LIMIT -1 OFFSET ?)",
            (max_rows,),
        ).rowcount
        return n

    # --- snapshots ---------------------------------------------------------

    def save_snapshot(self, snapshot: Snapshot, frame: Frame) -> None:
        path = self.dir / "snapshots" / f"{snapshot.snapshot_id}.npz"
        if not path.exists():
            np.savez(
                path,
                X=frame.X,
                y=frame.y,
                record_ids=np.asarray(frame.record_ids),
                event_times=np.asarray([_ts(t) for t in frame.event_times]),
                feature_names=np.asarray(frame.feature_names),
                holdout_rows=np.asarray(frame.holdout_rows),
            )
        body = json.dumps(asdict(snapshot), default=_iso)
        self.db.execute(
            "INSERT OR IGNORE INTO snapshots VALUES (?, ?)", (snapshot.snapshot_id, body)
        )

    def load_snapshot(self, snapshot_id: str) -> tuple[Snapshot, Frame] | None:
        row = self.db.execute(
            "SELECT body FROM snapshots WHERE snapshot_id = ?", (snapshot_id,)
        ).fetchone()
        path = self.dir / "snapshots" / f"{snapshot_id}.npz"
        if row is None or not path.exists():
            return None
        snap = _snapshot(json.loads(row[0]))
        d = np.load(path, allow_pickle=False)
        frame = Frame(
            record_ids=[str(r) for r in d["record_ids"]],
            event_times=[_dt(float(t)) for t in d["event_times"]],
            X=d["X"],
            y=d["y"],
            feature_names=[str(n) for n in d["feature_names"]],
            holdout_rows=int(d["holdout_rows"]),
        )
        return snap, frame

    # --- runs ------------------------------------------------------------

    def save_run(self, run: Run) -> None:
        body = json.dumps(asdict(run), default=_iso)
        self.db.execute(
            "INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?)",
            (run.run_id, run.model, int(run.state), _ts(run.created_at), body),
        )

    def get_run(self, run_id: str) -> Run | None:
        row = self.db.execute("SELECT body FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return _run(json.loads(row[0])) if row else None

    def list_runs(self, model: str = "", limit: int = 100) -> list[Run]:
        sql, args = "SELECT body FROM runs", []
        if model:
            sql, args = sql + " WHERE model = ?", [model]
        sql += " ORDER BY created_at DESC LIMIT ?"
        return [_run(json.loads(b)) for (b,) in self.db.execute(sql, [*args, limit])]

    def recent_runs(self, model: str, since: datetime) -> list[Run]:
        """Runs created since ``since`` plus every run still in progress."""
        cur = self.db.execute(
            "SELECT body FROM runs WHERE model = ? AND (created_at >= ? OR state IN (?, ?)) "
            "ORDER BY created_at DESC",
            (model, _ts(since), int(RunState.REQUESTED), int(RunState.RUNNING)),
        )
        return [_run(json.loads(b)) for (b,) in cur]

    def active_runs(self) -> list[Run]:
        cur = self.db.execute(
            "SELECT body FROM runs WHERE state IN (?, ?)",
            (int(RunState.REQUESTED), int(RunState.RUNNING)),
        )
        return [_run(json.loads(b)) for (b,) in cur]

    def mark_drift_seen(self, model: str, drift_id: str, now: datetime) -> bool:
        """Record a drift id; False when it was seen before."""
        cur = self.db.execute(
            "INSERT OR IGNORE INTO drift_seen VALUES (?,?,?)", (model, drift_id, _ts(now))
        )
        return cur.rowcount == 1

    def drift_seen(self, model: str, drift_id: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM drift_seen WHERE model = ? AND drift_id = ?", (model, drift_id)
        ).fetchone()
        return row is not None


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _opt_dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _snapshot(d: dict[str, Any]) -> Snapshot:
    return Snapshot(**{**d, "start": _opt_dt(d["start"]), "end": _opt_dt(d["end"])})


def _run(d: dict[str, Any]) -> Run:
    w = d["window"]
    d["window"] = Window(**{**w, "start": _opt_dt(w["start"]), "end": _opt_dt(w["end"])})
    d["snapshot"] = _snapshot(d["snapshot"]) if d["snapshot"] else None
    d["trigger"] = Trigger(d["trigger"])
    d["state"] = RunState(d["state"])
    for key in ("created_at", "started_at", "finished_at"):
        d[key] = _opt_dt(d[key])
    return Run(**d)
