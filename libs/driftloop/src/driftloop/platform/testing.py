"""Test helpers shared by every service's tests: free ports, the real
embedded broker, service processes, and reading topics to the end.

Registered as a pytest plugin by the root ``conftest.py``; fixtures:

- ``kafka``: a session-wide broker with every topic created; yields its
  :class:`KafkaSettings`. ``DRIFTLOOP_TEST_BROKER`` chooses the kind,
  ``tansu`` (the default) or ``kafka`` (Apache Kafka); ``DRIFTLOOP_TEST_KAFKA``
  names an already running one instead (``host:port``).
- ``postgres_url`` / ``redis_url``: a session-wide throwaway PostgreSQL / Redis
  on a free loopback port (or ``DRIFTLOOP_TEST_POSTGRES_URL`` /
  ``DRIFTLOOP_TEST_REDIS_URL``); a test that cannot get one fails, saying how
  to provide it.

A service process started by a test gets the broker with :func:`kafka_env`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from driftloop.platform import backends
from driftloop.platform.bus import aiokafka_options
from driftloop.platform.embedded import BrokerProcess, ensure_topics, local_broker
from driftloop.platform.log_identity import partitions_of
from driftloop.platform.settings import MAX_PORT_OFFSET, KafkaSettings


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port_block(size: int = 10, start: int = 20000, stop: int = 60000) -> int:
    """A base port such that base .. base+size-1 are all free (for a port offset)."""
    import random

    for _ in range(200):
        base = random.randrange(start, stop - size)
        ok = True
        for p in range(base, base + size):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free port block")


def free_port_offset(replicas: int = 1) -> int:
    """A ``DRIFTLOOP_PORT_OFFSET`` under which every service's default gRPC and
    metrics ports are free, so a whole platform can run beside others;
    with ``replicas``, the ports of every replica (``driftloop up
    --replicas``: REPLICA_PORT_STRIDE ports apart) too.

    The ports are kept out of the kernel's ephemeral range: a port free now
    but inside it can be taken by any outgoing connection (a Kafka client's)
    before the service binds it.
    """
    import random

    from driftloop.platform.ports import REPLICA_PORT_STRIDE, SERVICES

    low, high = _ephemeral_range()
    defaults = [
        p + replica * REPLICA_PORT_STRIDE
        for s in SERVICES.values()
        for p in (s.grpc_port, s.metrics_port)
        for replica in range(replicas)
    ]
    candidates = [
        offset
        for offset in range(1000, MAX_PORT_OFFSET + 1)
        if all(not low <= p + offset <= high and p + offset <= 65535 for p in defaults)
    ]
    for _ in range(200):
        offset = random.choice(candidates)
        if all(_is_free(p + offset) for p in defaults):
            return offset
    raise RuntimeError("no free port offset")


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


#: Fixtures that put a test on a broker; such a test gets the ``kafka`` marker,
#: so that ``make test-kafka`` runs it on Apache Kafka.
BROKER_FIXTURES = {"kafka", "platform"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BROKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.kafka)


def broker_kind() -> Literal["tansu", "kafka"]:
    """The broker kind the tests run on (``DRIFTLOOP_TEST_BROKER``)."""
    kind = os.environ.get("DRIFTLOOP_TEST_BROKER", "tansu")
    if kind not in ("tansu", "kafka"):
        raise pytest.UsageError(f"DRIFTLOOP_TEST_BROKER={kind!r}: use tansu or kafka")
    return kind  # type: ignore[return-value]


def kafka_env(settings: KafkaSettings) -> dict[str, str]:
    """The environment that points a service process at the test broker, with
    the producer guarantees that broker supports."""
    return {
        "DRIFTLOOP_KAFKA_BOOTSTRAP": settings.servers,
        "DRIFTLOOP_KAFKA_IDEMPOTENCE": "on" if settings.idempotent else "off",
    }


def start_local_broker(settings: KafkaSettings, root: Path) -> BrokerProcess:
    """Start the broker ``settings`` describe under ``root`` (its controller,
    for Apache Kafka, on a free port) and wait until it has every topic."""
    broker = local_broker(settings, root / "kafka", root / "broker.log", free_port())
    broker.start()
    try:
        asyncio.run(_ready(broker, settings))
    except BaseException:
        broker.stop()
        raise
    return broker


@pytest.fixture(scope="session")
def kafka() -> Iterator[KafkaSettings]:
    """The real broker, with every driftloop topic, for this session."""
    external = os.environ.get("DRIFTLOOP_TEST_KAFKA")
    if external:
        settings = KafkaSettings(bootstrap=external)
        asyncio.run(ensure_topics(settings))
        yield settings
        return
    settings = KafkaSettings(embedded=broker_kind(), embedded_port=free_port())
    broker = start_local_broker(settings, Path(tempfile.mkdtemp(prefix="driftloop-broker-")))
    # A service process a test starts with only DRIFTLOOP_KAFKA_BOOTSTRAP would
    # take `auto` as "on" (an external broker); Tansu has no idempotent
    # producer, so the session's processes inherit what this broker supports.
    previous = os.environ.get("DRIFTLOOP_KAFKA_IDEMPOTENCE")
    os.environ["DRIFTLOOP_KAFKA_IDEMPOTENCE"] = kafka_env(settings)["DRIFTLOOP_KAFKA_IDEMPOTENCE"]
    try:
        yield settings
    finally:
        broker.stop()
        if previous is None:
            os.environ.pop("DRIFTLOOP_KAFKA_IDEMPOTENCE", None)
        else:
            os.environ["DRIFTLOOP_KAFKA_IDEMPOTENCE"] = previous


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for this session (database ``test``)."""
    yield from _server("DRIFTLOOP_TEST_POSTGRES_URL", backends.postgres)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis server for this session (database 0)."""
    yield from _server("DRIFTLOOP_TEST_REDIS_URL", backends.redis)


def _server(variable: str, start: Any) -> Iterator[str]:
    external = os.environ.get(variable)
    if external:
        yield external
        return
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(start())
        except backends.ServerUnavailable as e:
            pytest.fail(f"{variable} is unset and {e}", pytrace=False)
        yield url


async def _ready(broker: BrokerProcess, settings: KafkaSettings) -> None:
    await broker.wait_ready(settings)
    await ensure_topics(settings)


def unique(prefix: str = "t") -> str:
    """A unique name (consumer group, stream, model) for one test."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def end_offsets(settings: KafkaSettings, topic: str) -> dict[TopicPartition, int]:
    """The current end offset of every partition of ``topic``."""
    consumer = AIOKafkaConsumer(**aiokafka_options(settings), enable_auto_commit=False)
    await consumer.start()
    try:
        parts = await partitions_of(consumer, topic)
        return dict(await consumer.end_offsets(parts))
    finally:
        await consumer.stop()


async def caught_up(settings: KafkaSettings, group: str, ends: dict[TopicPartition, int]) -> bool:
    """Whether consumer group ``group`` has committed every partition in
    ``ends`` up to its offset there (it handled everything before it)."""
    consumer = AIOKafkaConsumer(
        **aiokafka_options(settings), group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        for tp, end in ends.items():
            if (await consumer.committed(tp) or 0) < end:
                return False
        return True
    finally:
        await consumer.stop()


async def stable_members(settings: KafkaSettings, group: str) -> int:
    """How many members consumer group ``group`` has once it is Stable (0
    while it rebalances, or when it is empty)."""
    admin = AIOKafkaAdminClient(**aiokafka_options(settings))
    await admin.start()
    try:
        [desc] = await admin.describe_consumer_groups([group])
        _, _, state, _, _, members = desc.groups[0][:6]
        return len(members) if state == "Stable" else 0
    finally:
        await admin.close()


async def read_from(
    settings: KafkaSettings,
    topic: str,
    start: dict[TopicPartition, int] | None,
    *,
    count: int | None = None,
    timeout_s: float = 30.0,
    idle_s: float = 2.0,
    predicate: Any = None,
) -> list[ConsumerRecord]:
    """Records of ``topic`` after ``start`` (from the beginning when None).

    Stops when ``count`` records matching ``predicate`` arrived (then waits
    ``idle_s`` more, so that a surplus would be seen), or at ``timeout_s``.
    """
    consumer = AIOKafkaConsumer(
        **aiokafka_options(settings), enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    out: list[ConsumerRecord] = []
    try:
        parts = await partitions_of(consumer, topic)
        consumer.assign(parts)
        for tp in parts:
            if start and tp in start:
                consumer.seek(tp, start[tp])
            else:
                await consumer.seek_to_beginning(tp)
        deadline = time.monotonic() + timeout_s
        reached_at: float | None = None
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200, max_records=5000)
            for records in batch.values():
                out.extend(r for r in records if predicate is None or predicate(r))
            if count is not None and len(out) >= count:
                reached_at = reached_at or time.monotonic()
                if time.monotonic() - reached_at >= idle_s:
                    break
        return out
    finally:
        await consumer.stop()


async def produce_raw(
    settings: KafkaSettings, topic: str, items: list[tuple[bytes | None, bytes]]
) -> None:
    """Produce (key, value) pairs as a plain producer app would."""
    producer = AIOKafkaProducer(**aiokafka_options(settings), linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key) for key, value in items]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


class ServiceProcess:
    """A driftloop service run as a real process, for integration tests."""

    def __init__(self, module: str, env: dict[str, str], log_path: Path) -> None:
        self.module = module
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServiceProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.module],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        return self

    def wait_healthy(self, address: str, timeout_s: float = 180.0, service: str = "") -> None:
        """Until the health of ``service`` is SERVING: ``""`` liveness,
        ``driftloop.ready`` readiness (see ``driftloop.platform.grpc_server``)."""
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        deadline = time.monotonic() + timeout_s
        with grpc.insecure_channel(address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.module} exited: {self.tail()}")
                with contextlib.suppress(grpc.RpcError):
                    reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                time.sleep(0.1)
        # A process the caller will not get back must not outlive the test.
        tail = self.tail()
        self.kill()
        raise TimeoutError(f"{self.module} not healthy at {address} (stopped): {tail}")

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def terminate(self, timeout_s: float = 30.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout_s)
        finally:
            self._log.close()

    def kill(self) -> None:
        """kill -9, as a crash would."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        self._log.close()


async def wait_for(predicate: Any, timeout_s: float = 30.0, interval_s: float = 0.1) -> None:
    """Poll ``predicate`` (sync or async) until true; fail with a clear message."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(interval_s)
    raise AssertionError(f"condition not met within {timeout_s}s")


async def health(address: str, service: str = "") -> str:
    """The health of ``service`` at ``address`` (``""`` liveness,
    ``driftloop.ready`` readiness): SERVING, NOT_SERVING, … or UNREACHABLE."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    async with grpc.aio.insecure_channel(address) as channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=5
            )
        except grpc.aio.AioRpcError:
            return "UNREACHABLE"
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


async def readiness_follows(address: str, lose: Callable[[], None]) -> None:
    """Readiness (``driftloop.ready``) is SERVING, then NOT_SERVING once
    ``lose()`` took away what the service depends on, while liveness stays
    SERVING (a lost dependency is no reason to restart the process)."""
    from driftloop.platform.grpc_server import READY

    async def status_is(service: str, expected: str) -> bool:
        return await health(address, service) == expected

    await wait_for(lambda: status_is(READY, "SERVING"), timeout_s=300, interval_s=0.2)
    await asyncio.to_thread(lose)
    await wait_for(lambda: status_is(READY, "NOT_SERVING"), timeout_s=300, interval_s=0.2)
    assert await health(address) == "SERVING"


async def agen(items: list[Any]) -> AsyncIterator[Any]:
    """An async iterator over ``items`` (client-streaming calls in tests)."""
    for item in items:
        yield item
