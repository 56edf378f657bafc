"""Dataset snapshots: the immutable selection a run trains on."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from driftloop.platform.spec import ModelSpec
from driftloop_training.domain.dataset import Frame, NotEnoughData, select, to_frame
from driftloop_training.domain.runs import Run, RunFailed, Snapshot
from driftloop_training.service.ports import Store


async def take_snapshot(
    store: Store,
    run: Run,
    model: ModelSpec,
    view: str,
    version: int,
    *,
    poll_s: float,
    label_wait_s: float,
    clock: Callable[[], datetime],
) -> tuple[Frame, Snapshot]:
    """The run's data: its pinned snapshot, or a new one of its window (waiting
    up to ``label_wait_s`` for ``min_rows`` labelled rows), saved so that
    retention never changes it."""
    if run.pinned_snapshot_id:
        loaded = store.load_snapshot(run.pinned_snapshot_id)
        if loaded is None:
            raise RunFailed("not_enough_data", f"snapshot {run.pinned_snapshot_id} is gone")
        snapshot, frame = loaded
        return frame, snapshot
    waited_until = clock() + timedelta(seconds=label_wait_s)
    while True:
        try:
            rows = select(store.labelled_rows(view, version), run.window)
            break
        except NotEnoughData as exc:
            if clock() >= waited_until:
                raise RunFailed("not_enough_data", str(exc)) from None
        await asyncio.sleep(poll_s)
    names = store.feature_names(view, version)
    try:
        frame = to_frame(rows, names, model.training.holdout_fraction, model.task)
    except ValueError as exc:
        raise RunFailed("not_enough_data", str(exc)) from None
    digest = frame.content_sha256()
    snapshot = Snapshot(
        snapshot_id="snap-"
        + hashlib.sha256(f"{view}:{version}:{digest}".encode()).hexdigest()[:20],
        feature_view=view,
        feature_view_version=version,
        start=frame.event_times[0],
        end=frame.event_times[-1],
        rows=frame.rows,
        holdout_rows=frame.holdout_rows,
        content_sha256=digest,
    )
    store.save_snapshot(snapshot, frame)
    return frame, snapshot
