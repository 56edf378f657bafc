"""Single-flight across replicas, on two SingleFlight instances sharing a
SQLite lease file: a held model refuses the other replica, renewals keep it
past its time to live, a replica that stops renewing leaves an orphan the
other adopts once, and drift ids acted on are duplicates everywhere."""

import asyncio
from datetime import UTC, datetime

from driftloop.platform.leases import Leases
from driftloop.platform.testing import wait_for
from driftloop_training.domain.runs import Run, RunState, Trigger, Window
from driftloop_training.service.single_flight import IN_PROGRESS, SingleFlight, window_of


def flights(tmp_path, ttl_s: float) -> tuple[SingleFlight, SingleFlight]:
    url = f"sqlite:///{tmp_path / 'leases.db'}"
    return (SingleFlight(Leases(url, "training", h, ttl_s)) for h in ("a", "b"))  # type: ignore[return-value]


def run(drift_id: str = "d1") -> Run:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    return Run(
        "r1",
        "m",
        Trigger.DRIFT,
        RunState.REQUESTED,
        when,
        Window("since_drift", 10, when),
        3,
        "t",
        drift_id,
    )


async def test_held_model_refuses_the_other_replica_until_released(tmp_path):
    a, b = flights(tmp_path, ttl_s=2.0)
    assert await a.claim("m", "d1") == ""
    await a.started(run(), attempt=1)
    await asyncio.sleep(5)  # more than twice the time to live: only renewals keep it
    assert await b.claim("m", "d2") == IN_PROGRESS
    async with a.held(run()):
        pass
    assert await b.claim("m", "d1") == "drift d1 was already acted on by a replica"
    assert await b.claim("m", "d2") == ""


async def test_a_dead_replicas_run_is_adopted_once(tmp_path):
    a, b = flights(tmp_path, ttl_s=5.0)
    assert await a.claim("m", "d1") == ""
    await a.started(run(), attempt=1)
    a._renewers["m"].cancel()  # a dies: nobody renews
    found: list = []

    async def adopted() -> bool:
        found.extend(await b.orphans(["m"]))
        return bool(found)

    await wait_for(adopted, timeout_s=30)
    (doc,) = found
    assert doc["attempt"] == 1 and doc["run"]["drift_id"] == "d1"
    assert window_of(doc["run"]) == run().window
    assert await a.claim("m", "d9") == IN_PROGRESS  # b holds it now
    await b.started(run(), attempt=2)
    b._renewers["m"].cancel()  # b dies too
    orphans: list = []

    async def again() -> bool:
        orphans.extend(await a.orphans(["m"]))
        return bool(orphans)

    await wait_for(again, timeout_s=30)
    assert orphans[0]["attempt"] == 2  # the caller abandons it rather than a third try


async def test_a_replica_never_adopts_its_own_running_run(tmp_path):
    # Its renewal came late (an expired lease on a busy machine): still its run.
    a, _ = flights(tmp_path, ttl_s=1.0)
    assert await a.claim("m", "d1") == ""
    await a.started(run(), attempt=1)
    a._renewers["m"].cancel()
    a._renewers["m"] = asyncio.create_task(asyncio.sleep(60))  # a renewer that is late
    await wait_for(lambda: not a.leases.peek("m").live, timeout_s=30)
    assert await a.orphans(["m"]) == []
    a._renewers["m"].cancel()
