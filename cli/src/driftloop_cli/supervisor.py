"""Runs the embedded platform: the broker and the six services as separate
processes, with health waits, log files and a graceful stop that leaves no
process behind (a service's own children, such as the training service's
fork server, included)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from driftloop.platform.embedded import BrokerError, BrokerProcess, ensure_topics, local_broker
from driftloop.platform.parent import PARENT_PID
from driftloop.platform.ports import SERVICES
from driftloop.platform.settings import ServiceSettings
from driftloop_cli.health import check
from driftloop_cli.ports import (
    broker_port_problem,
    replica_shift,
    service_port_problem,
    taken_port_hint,
)
from driftloop_cli.state import RunState
from driftloop_cli.ui import strip_ansi

_BROKER_NAMES = {"tansu": "Tansu broker", "kafka": "Apache Kafka broker"}


class StartError(RuntimeError):
    """A part of the platform did not come up; the message says which, how,
    its last log lines and the likely cause."""


def log_tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log, without colour codes, or "(no output yet)"."""
    try:
        text = strip_ansi(path.read_text(errors="replace")).strip()
    except OSError:
        text = ""
    return "\n".join(text.splitlines()[-lines:]) if text else "(no output yet)"


def _cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used (0 where /proc is missing)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _serving(address: str) -> bool:
    """Whether the service at ``address`` is live. A TCP connect first: it costs
    a tenth of a gRPC health call's CPU (six services polled ten times a second
    while they start), and a service binds its gRPC port only once it has started."""
    host, port = address.rsplit(":", 1)
    try:
        _, writer = await asyncio.open_connection(host, int(port))
    except OSError:
        return False
    writer.close()
    return await check(address, timeout=1.0) == "SERVING"


@dataclass
class Child:
    name: str
    address: str
    log_path: Path
    service: str = ""
    replica: int = 0
    process: asyncio.subprocess.Process | None = None
    exit_code: int | None = None
    started_at: float = 0.0
    port_offset: int = 0

    def log_tail(self, lines: int = 15) -> str:
        return log_tail(self.log_path, lines)

    def describe_exit(self) -> str:
        """ "<name> exited with code N", its log tail and the likely cause."""
        code = self.process.returncode if self.process else None
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"code {code}"
        return _with_log(
            f"{self.name} exited with {how}", self.log_path, self.port_offset, self.name
        )


def _with_log(headline: str, log_path: Path, port_offset: int, service: str | None) -> str:
    tail = log_tail(log_path)
    hint = taken_port_hint(tail, service, port_offset)
    lines = [headline, f"last lines of {log_path}:", *("  " + line for line in tail.splitlines())]
    if hint:
        lines.append(f"likely cause: {hint}")
    return "\n".join(lines)


@dataclass
class Platform:
    settings: ServiceSettings
    spec: Path
    data_dir: Path
    services: list[str] = field(default_factory=lambda: list(SERVICES))
    start_timeout_s: float = 120.0
    broker: BrokerProcess | None = None
    children: dict[str, Child] = field(default_factory=dict)
    # Processes per service; above 1 each gets DRIFTLOOP_REPLICA_ID 0…N-1.
    replicas: int = 1
    _spawning: asyncio.Future[None] | None = None

    @property
    def port_offset(self) -> int:
        return self.settings.port_offset

    async def start(self, progress: Callable[[str], None] = lambda msg: None) -> None:
        """Start the broker (if embedded), create the topics, start the
        services and wait until each is healthy. Cancelling it is safe:
        `stop` then stops whatever was started."""
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self._check_ports()
        kafka = self.settings.kafka
        if kafka.own_broker:
            await self._start_broker(logs / "broker.log")
            progress(f"{_BROKER_NAMES[kafka.embedded]} ready at {kafka.servers}")
        created = await self._ensure_topics()
        progress(f"topics ready ({len(created)} created)")
        # Spawning is shielded: a Ctrl-C must not lose a process mid-creation.
        self._spawning = asyncio.ensure_future(self._spawn_all())
        await asyncio.shield(self._spawning)
        await asyncio.gather(*(self._wait_healthy(c, progress) for c in self.children.values()))

    def _check_ports(self) -> None:
        problems = [
            p
            for n in self.services
            if (p := service_port_problem(n, self.port_offset, self.replicas))
        ]
        if self.settings.kafka.own_broker:
            problems += filter(None, [broker_port_problem(self.settings.kafka.embedded_port)])
        if problems:
            raise StartError("cannot start:\n" + "\n".join(f"  {p}" for p in problems))

    async def _start_broker(self, log_path: Path) -> None:
        kafka = self.settings.kafka
        self.broker = local_broker(kafka, self.data_dir / "kafka", log_path)
        try:
            self.broker.start()
            await self.broker.wait_ready(kafka)
        except BrokerError as exc:
            proc = self.broker.process
            state = (
                f"exited with code {proc.returncode}"
                if proc and proc.returncode is not None
                else "did not answer"
            )
            raise StartError(
                _with_log(
                    f"the {_BROKER_NAMES[kafka.embedded]} (port {kafka.embedded_port}) {state}: "
                    f"{str(exc).splitlines()[0]}",
                    log_path,
                    self.port_offset,
                    None,
                )
            ) from None

    async def _ensure_topics(self) -> list[str]:
        from aiokafka.errors import KafkaError

        try:
            return await ensure_topics(self.settings.kafka)
        except (KafkaError, OSError) as exc:
            where = (
                "the platform's own broker"
                if self.settings.kafka.own_broker
                else "DRIFTLOOP_KAFKA_BOOTSTRAP (unset it to run the embedded broker)"
            )
            raise StartError(
                f"no Kafka broker answers at {self.settings.kafka.servers}, from {where}: "
                f"{type(exc).__name__}"
            ) from None

    async def _spawn_all(self) -> None:
        for name in self.services:
            for replica in range(self.replicas):
                await self._spawn(name, replica)

    def _env(self, service: str, replica: int) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DRIFTLOOP_SPEC=str(self.spec.resolve()),
            # Replicas share their service's directory (the registry's SQLite
            # file, the lease file); per-replica state goes in replica-<id>/.
            DRIFTLOOP_DATA_DIR=str((self.data_dir / service).resolve()),
            DRIFTLOOP_PORT_OFFSET=str(self.port_offset),
            DRIFTLOOP_KAFKA_EMBEDDED_PORT=str(self.settings.kafka.embedded_port),
            DRIFTLOOP_KAFKA_EMBEDDED=self.settings.kafka.embedded,
            DRIFTLOOP_KAFKA_IDEMPOTENCE="on" if self.settings.kafka.idempotent else "off",
            DRIFTLOOP_LOG_FORMAT="json",
        )
        env[PARENT_PID] = str(os.getpid())  # the child ends with this process
        if self.settings.kafka.bootstrap:
            env["DRIFTLOOP_KAFKA_BOOTSTRAP"] = self.settings.kafka.bootstrap
        env.pop("DRIFTLOOP_GRPC_PORT", None)
        env.pop("DRIFTLOOP_METRICS_PORT", None)
        if self.replicas > 1:
            info = SERVICES[service]
            shift = replica_shift(self.port_offset, replica)
            env.update(
                DRIFTLOOP_REPLICA_ID=str(replica),
                DRIFTLOOP_GRPC_PORT=str(info.grpc_port + shift),
                DRIFTLOOP_METRICS_PORT=str(info.metrics_port + shift),
            )
        return env

    async def _spawn(self, service: str, replica: int = 0) -> None:
        info = SERVICES[service]
        name = f"{service}-{replica}" if replica else service
        port = info.grpc_port + replica_shift(self.port_offset, replica)
        child = Child(
            name,
            f"127.0.0.1:{port}",
            self.data_dir / "logs" / f"{name}.log",
            service,
            replica,
            port_offset=self.port_offset,
        )
        with open(child.log_path, "ab") as out:
            child.started_at = time.monotonic()
            child.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                info.module,
                stdout=out,
                stderr=out,
                stdin=asyncio.subprocess.DEVNULL,
                env=self._env(service, replica),
                start_new_session=True,
            )
        self.children[name] = child

    async def _wait_healthy(self, child: Child, progress: Callable[[str], None]) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        assert child.process is not None
        while True:
            if child.process.returncode is not None:
                raise StartError(child.describe_exit().replace("\n", " while starting\n", 1))
            if await _serving(child.address):
                took = time.monotonic() - child.started_at
                cpu = _cpu_seconds(child.process.pid)
                progress(
                    f"{child.name} healthy at {child.address} "
                    f"({took:.1f} s after its start, {cpu:.1f} s CPU)"
                )
                return
            if time.monotonic() > deadline:
                message = _with_log(
                    f"{child.name} is running but not healthy after "
                    f"{self.start_timeout_s:.0f} s (pid {child.process.pid})",
                    child.log_path,
                    self.port_offset,
                    child.name,
                )
                if child.log_tail() == "(no output yet)":
                    load = os.getloadavg()[0]
                    message += (
                        f"\nlikely cause: it is still starting (load average {load:.1f} on "
                        f"{os.cpu_count()} cores); `driftloop up --start-timeout` waits longer"
                    )
                raise StartError(message)
            await asyncio.sleep(0.1)

    def write_state(self, up_pid: int) -> None:
        """The run file by which other commands find this platform."""
        RunState(
            up_pid=up_pid,
            kafka=self.settings.kafka.servers,
            port_offset=self.port_offset,
            services={
                n: {"grpc": int(c.address.rsplit(":", 1)[1])} for n, c in self.children.items()
            },
            broker_pid=self.broker.process.pid if self.broker and self.broker.process else None,
        ).write(self.data_dir)

    def clear_state(self) -> None:
        RunState.clear(self.data_dir)

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
        await self._spawn(child.service, child.replica)
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
        """SIGTERM every service (consumers first, registry last), wait, kill
        whatever is left in each service's process group, then stop the
        broker. Returns each service's exit code."""
        if self._spawning is not None:
            with contextlib.suppress(BaseException):
                await self._spawning
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
            # The service's own children (a fork server, a trainer) share its
            # process group, which start_new_session made its pid.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.process.pid, signal.SIGKILL)

        await asyncio.gather(*(wait(self.children[n]) for n in order))
        if self.broker is not None:
            await asyncio.to_thread(self.broker.stop)
        return {n: self.children[n].exit_code for n in order}
