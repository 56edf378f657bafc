"""Producers on Apache Kafka are idempotent: when acknowledgements are lost
and the producer retries, no record is lost and none is written twice.

A proxy between the producer and the broker cuts the connection instead of
passing on some of the broker's responses (so the records were written but
the producer never heard it) while a steady load is produced through the
raw-batch path the busy services use and through faststream's publish."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from driftloop.platform.apache_kafka import ApacheKafkaBroker
from driftloop.platform.batches import BatchPublisher
from driftloop.platform.bus import aiokafka_options, make_broker
from driftloop.platform.settings import KafkaSettings
from driftloop.platform.testing import free_port, read_from, unique, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.kafka_only]

ROUNDS, PER_ROUND = 60, 50


class AckDropper:
    """A TCP proxy that, while ``dropping``, closes the connection in place of
    every ``every``-th response from the broker."""

    def __init__(self, port: int, upstream_port: int, every: int = 4) -> None:
        self.port = port
        self.upstream_port = upstream_port
        self.every = every
        self.dropping = False
        self.dropped = 0
        self._responses = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _serve(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter):
        try:
            b_reader, b_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            c_writer.close()
            return

        async def pump(reader, writer, responses: bool) -> None:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                while data := await reader.read(65536):
                    if responses and self.dropping:
                        self._responses += 1
                        if self._responses % self.every == 0:
                            self.dropped += 1
                            break  # the broker did the work; the producer never hears it
                    writer.write(data)
                    await writer.drain()
            for w in (c_writer, b_writer):
                w.close()

        await asyncio.gather(pump(c_reader, b_writer, False), pump(b_reader, c_writer, True))


@pytest.fixture(scope="module")
def proxied_kafka() -> tuple[int, int]:
    """An Apache Kafka broker that advertises a proxy port in front of it:
    returns (broker port, proxy port)."""
    root = Path(tempfile.mkdtemp(prefix="driftloop-idem-"))
    port, controller, proxy = free_port(), free_port(), free_port()
    broker = ApacheKafkaBroker(
        port,
        controller,
        root / "kafka",
        root / "broker.log",
        overrides={"advertised.listeners": f"PLAINTEXT://127.0.0.1:{proxy}"},
    )
    broker.start()
    try:
        yield port, proxy
    finally:
        broker.stop()


async def _create(settings: KafkaSettings, topic: str) -> None:
    admin = AIOKafkaAdminClient(**aiokafka_options(settings))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 3, 1)])
    finally:
        await admin.close()


async def _produce_batches(
    settings: KafkaSettings, topic: str, keys: list[str], proxy: AckDropper
) -> None:
    publisher = BatchPublisher(settings, "idempotence-test")
    await publisher.start()
    proxy.dropping = True
    try:
        for start in range(0, len(keys), PER_ROUND):
            out = publisher.batches()
            for key in keys[start : start + PER_ROUND]:
                await out.add(topic, key.encode(), key.encode(), [], "Test")
            await out.send()
    finally:
        await publisher.stop()


async def _produce_faststream(
    settings: KafkaSettings, topic: str, keys: list[str], proxy: AckDropper
) -> None:
    broker = make_broker(settings, "idempotence-test")
    await broker.connect()
    proxy.dropping = True
    try:
        for start in range(0, len(keys), PER_ROUND):
            await asyncio.gather(
                *(
                    broker.publish(key.encode(), topic, key=key.encode())
                    for key in keys[start : start + PER_ROUND]
                )
            )
    finally:
        await broker.stop()


@pytest.mark.parametrize("produce", [_produce_batches, _produce_faststream])
async def test_lost_acks_neither_lose_nor_duplicate_records(proxied_kafka, produce):
    port, proxy_port = proxied_kafka
    proxy = AckDropper(proxy_port, port)  # the broker advertises the proxy
    await proxy.start()
    direct = KafkaSettings(bootstrap=f"127.0.0.1:{port}")
    # Metadata sends the clients to the advertised proxy port.
    settings = KafkaSettings(bootstrap=f"127.0.0.1:{proxy_port}", idempotence="auto")
    assert settings.idempotent  # an existing cluster: Apache Kafka
    try:
        await wait_for(lambda: _reachable(direct), timeout_s=180, interval_s=1)
        topic = unique("idem")
        await _create(direct, topic)
        keys = [f"r{i}" for i in range(ROUNDS * PER_ROUND)]
        await asyncio.wait_for(produce(settings, topic, keys, proxy), 300)
        proxy.dropping = False
        records = await read_from(direct, topic, None, count=len(keys), idle_s=1.0)
    finally:
        await proxy.stop()
    assert proxy.dropped >= 5, "the proxy dropped too few acknowledgements to prove anything"
    counts = Counter(r.key.decode() for r in records)
    missing = [k for k in keys if counts[k] == 0]
    twice = [k for k, n in counts.items() if n > 1]
    assert not missing, f"{len(missing)} records lost, e.g. {missing[:5]}"
    assert not twice, f"{len(twice)} records written more than once, e.g. {twice[:5]}"
    assert len(records) == len(keys)


async def _reachable(settings: KafkaSettings) -> bool:
    admin = AIOKafkaAdminClient(**aiokafka_options(settings), request_timeout_ms=3000)
    try:
        await admin.start()
    except Exception:
        return False
    await admin.close()
    return True
