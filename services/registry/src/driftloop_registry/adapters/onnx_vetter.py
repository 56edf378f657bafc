"""Vets artifacts in separate processes with memory, CPU and wall-time limits
(see ``vet_worker``) and turns the verdict into a signature or a refusal.

Each artifact gets a fresh process. To keep the latency of importing ONNX and
onnxruntime out of the upload path, workers are started ahead of time and wait
for their one job."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path

import structlog
from prometheus_client import Counter, Histogram

from driftloop.platform.errors import InvalidArgument
from driftloop_registry.domain.model import Signature, TensorSpec

log = structlog.get_logger(__name__)

Process = asyncio.subprocess.Process

VETTED = Counter("driftloop_registry_vetting_total", "Artifacts vetted, by outcome", ["outcome"])
VETTING_SECONDS = Histogram(
    "driftloop_registry_vetting_seconds",
    "Wall time of vetting one artifact (waiting for a worker included)",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


class ProcessVetter:
    """Implements the ``Vetter`` port."""

    def __init__(
        self,
        memory_mb: int,
        cpu_s: int,
        timeout_s: float,
        concurrency: int = 2,
        spares: int | None = None,
    ) -> None:
        self.memory_mb = memory_mb
        self.cpu_s = cpu_s
        self.timeout_s = timeout_s
        self.concurrency = concurrency
        # Workers kept waiting for a job (default: one per concurrent job).
        self.spares = concurrency if spares is None else spares
        self._slots = asyncio.Semaphore(concurrency)
        self._spares: list[Process] = []
        self._closed = False

    async def start(self) -> None:
        """Start the waiting workers."""
        for _ in range(self.spares):
            self._spares.append(await self._spawn())

    async def close(self) -> None:
        self._closed = True
        for proc in self._spares:
            await _kill(proc)
        self._spares.clear()

    async def vet(self, path: Path, feature_width: int) -> Signature:
        outcome = "refused"
        try:
            with VETTING_SECONDS.time():
                async with self._slots:
                    proc = self._spares.pop(0) if self._spares else await self._spawn()
                    if not self._closed and len(self._spares) < self.spares:
                        self._spares.append(await self._spawn())
                    out, err, code = await self._ask(proc, path, feature_width)
            signature = self._signature(out, err, code)
            outcome = "accepted"
            return signature
        finally:
            VETTED.labels(outcome).inc()

    def _signature(self, out: bytes, err: bytes, code: int) -> Signature:
        try:
            verdict = json.loads(out.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            why = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
            log.warning("vetting.crashed", code=code, stderr=err.decode(errors="replace")[-500:])
            raise InvalidArgument(
                f"artifact: the vetting process died ({why}); the model needs more than "
                f"{self.memory_mb} MiB or {self.cpu_s} s of CPU, or crashes its runtime"
            ) from None
        if not verdict["ok"]:
            raise InvalidArgument(f"artifact: {verdict['reason']}")
        sig = verdict["signature"]
        return Signature(
            tuple(TensorSpec(t["name"], t["datatype"], tuple(t["shape"])) for t in sig["inputs"]),
            tuple(TensorSpec(t["name"], t["datatype"], tuple(t["shape"])) for t in sig["outputs"]),
        )

    async def _spawn(self) -> Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "driftloop_registry.adapters.vet_worker",
            "--serve",
            str(self.memory_mb),
            str(self.cpu_s),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )

    async def _ask(self, proc: Process, path: Path, width: int) -> tuple[bytes, bytes, int]:
        job = json.dumps({"path": str(path), "feature_width": width}).encode() + b"\n"
        try:
            out, err = await asyncio.wait_for(proc.communicate(job), self.timeout_s)
        except TimeoutError:
            await _kill(proc)
            raise InvalidArgument(
                f"artifact: vetting took longer than {self.timeout_s} s"
            ) from None
        except BaseException:
            await _kill(proc)
            raise
        return out, err, proc.returncode or 0


async def _kill(proc: Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    await proc.wait()
