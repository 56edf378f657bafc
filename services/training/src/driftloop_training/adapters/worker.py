"""Runs a trainer in a separate process with a timeout and an address-space
limit, so that a trainer that raises, hangs, eats memory or returns garbage
ends as a failed run and the service lives on.

Start methods: ``spawn`` starts a fresh interpreter per run (seconds of
imports each time); ``forkserver`` (default) spawns one clean server process
once, with the ML libraries imported, and forks each run's worker from it —
still a new process per run that shares nothing with the service process (no
event loop, threads or sockets), but it starts in milliseconds."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import structlog

from driftloop_training.adapters.trainers import child_main
from driftloop_training.domain.runs import RunFailed
from driftloop_training.service.ports import TrainJob, TrainResult

log = structlog.get_logger(__name__)

#: Imported once by the fork server, so that forked workers start warm.
PRELOAD = [
    "driftloop_training.adapters.trainers",
    "numpy",
    "sklearn.linear_model",
    "sklearn.ensemble",
    "skl2onnx",
    "onnx",
    "onnxruntime",
]


class ProcessTrainer:
    """Trains in a fresh spawned process per run; ``work_dir`` holds the job files."""

    def __init__(
        self, work_dir: Path, start_method: str = "forkserver", startup_timeout_s: float = 120.0
    ) -> None:
        self.work_dir = work_dir
        self.startup_timeout_s = startup_timeout_s
        self._ctx: Any = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            self._ctx.set_forkserver_preload(PRELOAD)

    async def warm_up(self) -> None:
        """Start the fork server now rather than at the first run."""
        if self._ctx.get_start_method() == "forkserver":
            from multiprocessing import forkserver

            await asyncio.to_thread(forkserver.ensure_running)

    async def train(self, job: TrainJob) -> TrainResult:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        job_dir = Path(tempfile.mkdtemp(prefix="job-", dir=self.work_dir))
        try:
            np.savez(job_dir / "data.npz", X=job.X, y=job.y)
            (job_dir / "job.json").write_text(
                json.dumps(
                    {
                        "task": job.task,
                        "feature_names": job.feature_names,
                        "seed": job.seed,
                        "builtin": job.builtin,
                        "callable": job.callable,
                        "params": job.params,
                        "threads": job.threads,
                    }
                )
            )
            proc = self._ctx.Process(
                target=child_main, args=(str(job_dir), job.memory_mb), daemon=True
            )
            started = time.monotonic()
            proc.start()
            try:
                await self._wait(proc, job_dir / "ready", job.timeout_s)
            finally:
                if proc.is_alive():
                    proc.kill()
                    await asyncio.to_thread(proc.join, 5)
            log.info("trainer.exited", code=proc.exitcode, seconds=time.monotonic() - started)
            return self._result(job_dir, proc.exitcode, job)
        finally:
            shutil.rmtree(job_dir, ignore_errors=True)

    async def _wait(self, proc: Any, ready: Path, timeout_s: float) -> None:
        # The clock starts once the worker has imported its libraries, so a
        # busy machine's slow process start does not count against the trainer.
        start_by = time.monotonic() + self.startup_timeout_s
        deadline: float | None = None
        while proc.is_alive():
            now = time.monotonic()
            if deadline is None and ready.exists():  # noqa: ASYNC240 (one stat call)
                deadline = now + timeout_s
            if deadline is not None and now > deadline:
                raise RunFailed("timeout", f"trainer did not finish within {timeout_s:g}s")
            if deadline is None and now > start_by:
                raise RunFailed(
                    "timeout", f"worker did not start within {self.startup_timeout_s:g}s"
                )
            await asyncio.sleep(0.05)
        proc.join()

    @staticmethod
    def _result(job_dir: Path, exitcode: int | None, job: TrainJob) -> TrainResult:
        error = job_dir / "error.json"
        if error.exists():
            info = json.loads(error.read_text())
            raise RunFailed(info["kind"], info["reason"])
        model = job_dir / "model.onnx"
        if exitcode != 0 or not model.exists():
            kind = "memory" if exitcode in (-9, -6) else "trainer_error"
            raise RunFailed(kind, f"trainer process died with exit code {exitcode}")
        info = json.loads((job_dir / "info.json").read_text())
        return TrainResult(model.read_bytes(), info["library_versions"])
