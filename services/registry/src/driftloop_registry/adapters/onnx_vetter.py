"""Vets artifacts in a separate process with memory, CPU and wall-time limits
(see ``vet_worker``) and turns its verdict into a signature or a refusal."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path

import structlog
from driftloop.platform.errors import InvalidArgument
from driftloop_registry.domain.model import Signature, TensorSpec

log = structlog.get_logger(__name__)


class ProcessVetter:
    """Implements the ``Vetter`` port."""

    def __init__(self, memory_mb: int, cpu_s: int, timeout_s: float, concurrency: int = 2) -> None:
        self.memory_mb = memory_mb
        self.cpu_s = cpu_s
        self.timeout_s = timeout_s
        self._slots = asyncio.Semaphore(concurrency)

    async def vet(self, path: Path, feature_width: int) -> Signature:
        async with self._slots:
            out, err, code = await self._run(path, feature_width)
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

    async def _run(self, path: Path, feature_width: int) -> tuple[bytes, bytes, int]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "driftloop_registry.adapters.vet_worker",
            str(path),
            str(feature_width),
            str(self.memory_mb),
            str(self.cpu_s),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), self.timeout_s)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise InvalidArgument(
                f"artifact: vetting took longer than {self.timeout_s} s"
            ) from None
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            raise
        return out, err, proc.returncode or 0
