"""Two monitoring replicas (real processes, one lease file, the real broker):
each model is announced by exactly one of them; killing the owner -9 in the
middle of a canary hands the model to the other, which carries the rollout
on from where it stood: one RolloutStarted, one RolloutDecided."""

from __future__ import annotations

import sqlite3

import pytest
from monitoring_support import (
    WATCHED,
    Platform,
    predictions_seen,
    spec_json,
    start_rollout,
    traffic,
)

from driftloop.monitoring.v1 import events_pb2 as mon
from driftloop.platform import topics
from driftloop.platform.testing import end_offsets, unique, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]


def owner(data_dir, model: str) -> str:
    """The replica id holding the model's monitoring lease ("" if none)."""
    with sqlite3.connect(data_dir / "leases.db") as db:
        row = db.execute(
            "SELECT holder FROM leases WHERE scope = 'monitoring' AND key = ? "
            "AND expires_at >= CAST(strftime('%s','now') AS INTEGER) * 1000000",
            (model,),
        ).fetchone()
    return row[0].split("-")[0] if row else ""


def distinct(events: list, kind: type) -> list:
    """One per event id (a takeover may repeat a fact with its id)."""
    return list({e.meta.event_id: e for e in events if isinstance(e, kind)}.values())


async def test_the_owner_killed_mid_canary_hands_the_rollout_over(kafka, tmp_path):
    model = unique("canary")
    spec = spec_json(
        {model: {"rollout": {"steps": [0.5, 1.0], "min_labelled_per_side": 60, "timeout_s": 300}}}
    )
    group = unique("monitoring")
    replicas = [
        Platform(
            kafka,
            tmp_path,
            spec,
            name=f"monitoring-{i}",
            DRIFTLOOP_REPLICA_ID=str(i),
            DRIFTLOOP_REPLICA_LEASE_TTL_S="10",
            DRIFTLOOP_CONSUMER_GROUP=group,
        )
        for i in range(2)
    ]
    data_dir = tmp_path / "data"
    try:
        for r in replicas:
            r.start(wait=False)
        for r in replicas:
            r.wait_healthy()
        start = {t: await end_offsets(kafka, t) for t in WATCHED}
        await start_rollout(replicas[0], model, "drift-k")
        started = await replicas[0].events(start, topics.ROLLOUTS.name, model, 1)
        assert [type(e).__name__ for e in started] == ["RolloutStarted"]

        half = traffic(model, 600, {1: 0.7, 2: 0.95}, share=0.5, seed=5)
        await replicas[0].publish(half[:200])  # predictions only: no verdict yet
        for r in replicas:
            await wait_for(lambda r=r: predictions_seen(r, model, 200), timeout_s=60)
        victim = int(owner(data_dir, model))
        replicas[victim].proc.kill()
        survivor = replicas[1 - victim]
        await replicas[0].publish(half[200:])

        await wait_for(lambda: owner(data_dir, model) == str(1 - victim), timeout_s=60)
        evs = await survivor.events(start, topics.ROLLOUTS.name, model, 2, timeout_s=120)
        assert len(distinct(evs, mon.RolloutStarted)) == 1
        decided = [e for e in evs if isinstance(e, mon.RolloutDecided)]
        assert len(decided) == 1, evs
        assert decided[0].verdict == mon.VERDICT_PROMOTE
        # The survivor judged on the evidence it had kept as a standby.
        samples = decided[0].evidence.candidate_samples + decided[0].evidence.champion_samples
        assert samples >= 120
    finally:
        for r in replicas:
            if r.proc and r.proc.proc and r.proc.proc.poll() is None:
                r.proc.terminate()
