"""`driftloop up --broker kafka` as a user runs it: Apache Kafka as a child
process whose log lives under DRIFTLOOP_DATA_DIR, so that a stop and a start
keep every topic, record and committed offset."""

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from driftloop.platform.bus import aiokafka_options
from driftloop.platform.settings import KafkaSettings
from driftloop.platform.testing import (
    end_offsets,
    free_port,
    free_port_offset,
    produce_raw,
    read_from,
    unique,
)

pytestmark = [pytest.mark.integration, pytest.mark.kafka_only]

CLI = [sys.executable, "-m", "driftloop_cli"]


class Up:
    """One `driftloop up --broker kafka --only registry` run."""

    def __init__(self, env: dict[str, str], data_dir: Path) -> None:
        self.env = env
        self.state = data_dir / "run" / "platform.json"
        self.proc = subprocess.Popen(
            [*CLI, "up", "--broker", "kafka", "--only", "registry"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_up(self) -> None:
        deadline = time.monotonic() + 300  # the first run may fetch the jars
        while not self.state.exists() and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"driftloop up exited:\n{self.proc.stdout.read()}")
            time.sleep(0.2)
        assert self.state.exists(), "driftloop up did not come up"

    def down(self) -> str:
        done = subprocess.run(
            [*CLI, "down"], env=self.env, capture_output=True, text=True, timeout=180
        )
        output, _ = self.proc.communicate(timeout=120)
        assert done.returncode == 0, done.stderr
        assert self.proc.returncode == 0, output
        return output

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def _consume_and_commit(kafka: KafkaSettings, topic: str, group: str, n: int) -> None:
    consumer = AIOKafkaConsumer(
        topic,
        **aiokafka_options(kafka),
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        seen = 0
        deadline = time.monotonic() + 60
        while seen < n and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=n - seen)
            seen += sum(len(records) for records in batch.values())
        assert seen == n
        await consumer.commit()
    finally:
        await consumer.stop()


async def _committed(kafka: KafkaSettings, topic: str, group: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(**aiokafka_options(kafka), group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return {p: await consumer.committed(TopicPartition(topic, p)) or 0 for p in range(2)}
    finally:
        await consumer.stop()


async def _create_topic(kafka: KafkaSettings, topic: str) -> None:
    admin = AIOKafkaAdminClient(**aiokafka_options(kafka))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 2, 1)])
    finally:
        await admin.close()


def test_a_restarted_local_kafka_keeps_topics_records_and_committed_offsets(tmp_path):
    data_dir = tmp_path / "var"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLOOP_")}
    env.update(
        DRIFTLOOP_DATA_DIR=str(data_dir),
        DRIFTLOOP_PORT_OFFSET=str(free_port_offset()),
        DRIFTLOOP_KAFKA_EMBEDDED_PORT=str(port),
    )
    kafka = KafkaSettings(bootstrap=f"127.0.0.1:{port}")
    topic, group = unique("kept"), unique("group")
    items = [(f"k{i}".encode(), f"v{i}".encode()) for i in range(50)]

    first = Up(env, data_dir)
    try:
        first.wait_up()
        asyncio.run(_create_topic(kafka, topic))
        asyncio.run(produce_raw(kafka, topic, items))
        asyncio.run(_consume_and_commit(kafka, topic, group, len(items)))
        committed = asyncio.run(_committed(kafka, topic, group))
        output = first.down()
    finally:
        first.kill()
    assert "Apache Kafka broker ready" in output
    assert sum(committed.values()) == len(items)
    assert (data_dir / "kafka" / "log" / "meta.properties").exists()

    second = Up(env, data_dir)
    try:
        second.wait_up()
        assert asyncio.run(_committed(kafka, topic, group)) == committed
        ends = asyncio.run(end_offsets(kafka, topic))
        assert {tp.partition: end for tp, end in ends.items()} == committed
        records = asyncio.run(read_from(kafka, topic, None, count=len(items), idle_s=0.5))
        assert sorted((r.key, r.value) for r in records) == sorted(items)
        output = second.down()
    finally:
        second.kill()
    # The driftloop topics were kept too: the second start created none.
    assert "topics ready (0 created)" in output
