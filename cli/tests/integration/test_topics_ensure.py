"""``driftloop topics ensure`` against a fresh real broker (the embedded one,
started here so that no topic exists yet)."""

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from driftloop.platform.embedded import EmbeddedBroker, list_topics
from driftloop.platform.settings import KafkaSettings
from driftloop.platform.testing import free_port
from driftloop.platform.topics import ALL
from driftloop_cli.app import app

pytestmark = pytest.mark.integration


@pytest.fixture
def empty_broker() -> Iterator[KafkaSettings]:
    port = free_port()
    settings = KafkaSettings(embedded_port=port)
    broker = EmbeddedBroker(port, Path(tempfile.mkdtemp(prefix="driftloop-topics-")) / "b.log")
    broker.start()
    try:
        asyncio.run(broker.wait_ready(settings))
        yield settings
    finally:
        broker.stop()


def _ensure(bootstrap: str, **env: str) -> Result:
    return CliRunner().invoke(
        app, ["topics", "ensure"], env={"DRIFTLOOP_KAFKA_BOOTSTRAP": bootstrap, **env}
    )


def test_creates_every_topic_once(empty_broker: KafkaSettings) -> None:
    first = _ensure(empty_broker.servers, DRIFTLOOP_KAFKA_PARTITIONS="2")
    assert first.exit_code == 0, first.output
    assert f"{len(ALL)} topic(s) created, 0 already there" in first.stdout
    assert {t.name for t in ALL} <= set(asyncio.run(list_topics(empty_broker)))

    again = _ensure(empty_broker.servers)
    assert again.exit_code == 0, again.output
    assert f"0 topic(s) created, {len(ALL)} already there" in again.stdout


def test_unreachable_kafka_fails_with_the_address() -> None:
    address = f"127.0.0.1:{free_port()}"
    result = _ensure(address)
    assert result.exit_code == 1
    assert f"topics not ensured on {address}" in result.output


def test_bad_settings_name_the_variable() -> None:
    result = _ensure("127.0.0.1:9", DRIFTLOOP_KAFKA_RETENTION_MS="-5")
    assert result.exit_code == 2
    assert "DRIFTLOOP_KAFKA_RETENTION_MS" in result.output
