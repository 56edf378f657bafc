"""One run per model across every training replica.

A run holds its model's lease (``driftloop.platform.leases``, scope
``training``) from acceptance to its end and renews it meanwhile; another
replica's trigger for the model is refused while it is held. The lease's
document says what is going on: ``running`` with the run's request and its
attempt, or ``done``; and it carries the drift ids already acted on, so a
drift event redelivered to another replica is a duplicate there too. A
replica that dies mid-run stops renewing: once the lease expired, the next
trigger-loop pass of any replica adopts the run and retries it once (attempt
2); a run that fails again that way is abandoned.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any

import structlog

from driftloop.platform.lease_port import LeaseStore
from driftloop_training.domain.runs import Run, Trigger, Window

log = structlog.get_logger(__name__)

#: Drift ids remembered per model (a burst's copies arrive within minutes).
MAX_DRIFT_IDS = 50
IN_PROGRESS = "a run of the model is in progress on another replica"


class SingleFlight:
    def __init__(self, leases: LeaseStore) -> None:
        self.leases = leases
        self._docs: dict[str, dict[str, Any]] = {}
        self._renewers: dict[str, asyncio.Task[None]] = {}
        self._runners: dict[str, asyncio.Task[Any] | None] = {}

    async def claim(self, model: str, drift_id: str = "", *, retry: bool = False) -> str:
        """Take the model's lease for a new run; returns "" or why not."""
        lease = await asyncio.to_thread(self.leases.take, model)
        if lease is None:
            return IN_PROGRESS
        doc = dict(lease.data)
        if drift_id and drift_id in doc.get("drift_ids", []) and not retry:
            await asyncio.to_thread(self.leases.release, model, doc)
            return f"drift {drift_id} was already acted on by a replica"
        if doc.get("state") == "running" and not retry:
            log.warning("training.orphan_superseded", model=model, run=doc.get("run"))
        self._docs[model] = doc
        return ""

    async def started(self, run: Run, attempt: int) -> None:
        """The run was accepted: say so in the lease and keep renewing it
        until :meth:`held` (around the run's execution) ends."""
        doc = self._docs[run.model]
        if run.drift_id:
            doc["drift_ids"] = [*doc.get("drift_ids", []), run.drift_id][-MAX_DRIFT_IDS:]
        doc.update(state="running", attempt=attempt, run=request_doc(run))
        await asyncio.to_thread(self.leases.put, run.model, doc)
        self._renewers[run.model] = asyncio.create_task(self._renew(run))

    @contextlib.asynccontextmanager
    async def held(self, run: Run) -> AsyncIterator[None]:
        """Around the run's execution: release the lease at the end. A run
        stopped by a shutdown leaves its lease ``running`` and expired, so
        another replica retries it at once; one that ended otherwise leaves
        it ``done``."""
        self._runners[run.model] = asyncio.current_task()
        stopped = False
        try:
            yield
        except asyncio.CancelledError:
            stopped = True
            raise
        finally:
            await self.end(run, done=not stopped)

    async def end(self, run: Run, *, done: bool) -> None:
        self._runners.pop(run.model, None)
        renewer = self._renewers.pop(run.model, None)
        if renewer:
            renewer.cancel()
        doc = self._docs.get(run.model, {})
        if done:
            doc["state"] = "done"
        doc["last_run"] = run.run_id
        await asyncio.to_thread(self.leases.release, run.model, doc)

    async def orphans(self, models: Iterable[str]) -> list[dict[str, Any]]:
        """Runs whose replica died: their leases, now taken by us, with their
        documents (``attempt`` = the attempts made so far)."""
        found = []
        for model in models:
            renewer = self._renewers.get(model)
            if renewer is not None and not renewer.done():
                # Our own run, whose renewal came late (a busy machine): the
                # renewer takes the lease back; it is no orphan.
                continue
            lease = await asyncio.to_thread(self.leases.peek, model)
            if lease is None or lease.live or lease.data.get("state") != "running":
                continue
            taken = await asyncio.to_thread(self.leases.take, model)
            if taken is None or taken.data.get("state") != "running":
                continue  # another replica adopted it first
            self._docs[model] = dict(taken.data)
            found.append(dict(taken.data))
        return found

    async def abandon(self, model: str) -> None:
        doc = self._docs.pop(model, {})
        doc["state"] = "abandoned"
        await asyncio.to_thread(self.leases.release, model, doc)

    async def _renew(self, run: Run) -> None:
        while True:
            await asyncio.sleep(self.leases.ttl_s / 3)
            try:
                kept = await asyncio.to_thread(self.leases.take, run.model)
            except Exception as exc:  # the database is away: try again
                log.warning("training.lease_renew_failed", run_id=run.run_id, error=repr(exc))
                continue
            if kept is None:
                log.error("training.lease_lost", run_id=run.run_id, model=run.model)
                runner = self._runners.get(run.model)
                if runner is not None:
                    runner.cancel()
                return


def request_doc(run: Run) -> dict[str, Any]:
    """What another replica needs to run the same request again."""
    w = run.window
    return {
        "model": run.model,
        "trigger": run.trigger.name,
        "policy": w.policy,
        "min_rows": w.min_rows,
        "start": w.start.isoformat() if w.start else "",
        "last_n": w.last_n,
        "drift_id": run.drift_id,
        "cause_id": run.cause_id,
        "correlation_id": run.correlation_id,
        "seed": run.seed,
        "run_id": run.run_id,
    }


def window_of(doc: dict[str, Any]) -> Window:
    start = datetime.fromisoformat(doc["start"]) if doc.get("start") else None
    return Window(doc["policy"], int(doc["min_rows"]), start=start, last_n=int(doc["last_n"]))


def trigger_of(doc: dict[str, Any]) -> Trigger:
    return Trigger[doc["trigger"]]
