"""Runs the embedded platform: the broker and the six services as separate
processes, with health waits, log files and a graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from driftloop.platform.embedded import EmbeddedBroker, ensure_topics
from driftloop.platform.ports import SERVICES
from driftloop.platform.settings import ServiceSettings
from driftloop_cli.health import check

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # A child must not outlive a supervisor that was killed outright.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class StartError(RuntimeError):
    """A part of the platform did not come up; the message has its log tail."""


#: Replica k (k >= 1) of a service listens on its default ports + k * this.
REPLICA_PORT_STRIDE = 1000


@dataclass
class Child:
    name: str
    address: str
    log_path: Path
    service: str = ""
    replica: int = 0
    process: asyncio.subprocess.Process | None = None
    exit_code: int | None = None

    def log_tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@dataclass
class Platform:
    settings: ServiceSettings
    spec: Path
    data_dir: Path
    services: list[str] = field(default_factory=lambda: list(SERVICES))
    start_timeout_s: float = 60.0
    # Processes per service; above 1 each gets DRIFTLOOP_REPLICA_ID 0…N-1.
    replicas: int = 1
    broker: EmbeddedBroker | None = None
    children: dict[str, Child] = field(default_factory=dict)

    @property
    def port_offset(self) -> int:
        return self.settings.port_offset

    async def start(self, progress: Callable[[str], None] = lambda msg: None) -> None:
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        if self.settings.kafka.embedded:
            self.broker = EmbeddedBroker(self.settings.kafka.embedded_port, logs / "broker.log")
            self.broker.start()
            await self.broker.wait_ready(self.settings.kafka)
            progress(f"broker ready at {self.settings.kafka.servers}")
        created = await ensure_topics(self.settings.kafka)
        progress(f"topics ready ({len(created)} created)")
        for name in self.services:
            for k in range(self.replicas):
                child = self._child(name, k)
                await self._spawn(child)
        await asyncio.gather(*(self._wait_healthy(c, progress) for c in self.children.values()))

    def _child(self, service: str, replica: int) -> Child:
        name = f"{service}-{replica}" if replica else service
        port = SERVICES[service].grpc_port + self.port_offset + replica * REPLICA_PORT_STRIDE
        logs = self.data_dir / "logs"
        return Child(name, f"127.0.0.1:{port}", logs / f"{name}.log", service, replica)

    def _env(self, child: Child) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DRIFTLOOP_SPEC=str(self.spec.resolve()),
            # Replicas share their service's directory: the registry's SQLite
            # file and the lease file are shared; per-replica state goes in
            # replica-<id>/ below it.
            DRIFTLOOP_DATA_DIR=str((self.data_dir / child.service).resolve()),
            DRIFTLOOP_PORT_OFFSET=str(self.port_offset),
            DRIFTLOOP_KAFKA_EMBEDDED_PORT=str(self.settings.kafka.embedded_port),
            DRIFTLOOP_LOG_FORMAT="json",
        )
        env.pop("DRIFTLOOP_GRPC_PORT", None)
        env.pop("DRIFTLOOP_METRICS_PORT", None)
        if self.replicas > 1:
            info = SERVICES[child.service]
            shift = self.port_offset + child.replica * REPLICA_PORT_STRIDE
            env.update(
                DRIFTLOOP_REPLICA_ID=str(child.replica),
                DRIFTLOOP_GRPC_PORT=str(info.grpc_port + shift),
                DRIFTLOOP_METRICS_PORT=str(info.metrics_port + shift),
            )
        return env

    async def _spawn(self, child: Child) -> None:
        with open(child.log_path, "ab") as out:
            child.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                SERVICES[child.service].module,
                stdout=out,
                stderr=out,
                stdin=asyncio.subprocess.DEVNULL,
                env=self._env(child),
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        self.children[child.name] = child

    async def _wait_healthy(self, child: Child, progress: Callable[[str], None]) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        assert child.process is not None
        while True:
            if child.process.returncode is not None:
                raise StartError(
                    f"{child.name} exited with code {child.process.returncode} while starting; "
                    f"last lines of {child.log_path}:\n{child.log_tail()}"
                )
            if await check(child.address, timeout=1.0) == "SERVING":
                progress(f"{child.name} healthy at {child.address}")
                return
            if time.monotonic() > deadline:
                raise StartError(
                    f"{child.name} not healthy after {self.start_timeout_s:.0f}s; "
                    f"last lines of {child.log_path}:\n{child.log_tail()}"
                )
            await asyncio.sleep(0.2)

    async def kill(self, name: str) -> None:
        """kill -9 one service, as a crash would."""
        child = self.children[name]
        assert child.process is not None
        with contextlib.suppress(ProcessLookupError):
            child.process.kill()
        await child.process.wait()

    async def restart(self, name: str) -> None:
        """Start a service again (after it died) and wait until it is healthy."""
        child = self.children[name]
        await self._spawn(self._child(child.service, child.replica))
        await self._wait_healthy(self.children[name], lambda msg: None)

    async def watch(self, stop: asyncio.Event, on_exit: Callable[[Child], None]) -> None:
        """Until ``stop`` is set, report any service that exits on its own."""
        reported: set[str] = set()
        while not stop.is_set():
            for child in self.children.values():
                proc = child.process
                if proc and proc.returncode is not None and child.name not in reported:
                    reported.add(child.name)
                    on_exit(child)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)

    async def stop(self, timeout_s: float = 30.0) -> dict[str, int | None]:
        """SIGTERM every service (consumers first, registry last), wait, then
        stop the broker. Returns each service's exit code."""
        rank = {s: i for i, s in enumerate(reversed(list(SERVICES)))}
        order = sorted(self.children, key=lambda n: rank[self.children[n].service])
        for name in order:
            proc = self.children[name].process
            if proc and proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)

        async def wait(child: Child) -> None:
            assert child.process is not None
            try:
                child.exit_code = await asyncio.wait_for(child.process.wait(), timeout_s)
            except TimeoutError:
                child.process.kill()
                child.exit_code = await child.process.wait()

        await asyncio.gather(*(wait(self.children[n]) for n in order))
        if self.broker is not None:
            self.broker.stop()
        return {n: self.children[n].exit_code for n in order}
