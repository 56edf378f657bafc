"""The prediction sink never blocks or fails the response path."""

from __future__ import annotations

import asyncio

import numpy as np

from driftloop.platform.testing import wait_for
from driftloop_serving.domain.models import VersionInfo
from driftloop_serving.domain.predictions import Scored
from driftloop_serving.domain.routing import Role
from driftloop_serving.service.predictions import PredictionSink


def scored(i: int) -> Scored:
    return Scored(
        "grpc",
        f"r{i}",
        f"r{i}",
        "",
        VersionInfo("m", 1),
        Role.CHAMPION,
        (),
        np.zeros((1, 2)),
        {"label": np.array([0])},
        1.0,
        0.0,
    )


async def test_batches_are_published_in_order():
    batches: list[list[Scored]] = []

    async def publish(batch):
        batches.append(batch)
        return 0

    sink = PredictionSink(publish, batch_size=10, linger_s=0.01)
    task = asyncio.create_task(sink.run())
    for i in range(25):
        sink.record(scored(i))
    await wait_for(lambda: sink.published == 25, timeout_s=5, interval_s=0.01)
    task.cancel()
    assert [len(b) for b in batches] == [10, 10, 5]
    assert [s.request_id for b in batches for s in b] == [f"r{i}" for i in range(25)]
    assert sink.published == 25 and sink.unpublished == 0


async def test_broker_down_counts_what_was_lost_and_keeps_going():
    attempts = 0

    async def publish(batch):
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise ConnectionError("broker down")
        return 0

    sink = PredictionSink(publish, batch_size=5, linger_s=0)
    task = asyncio.create_task(sink.run())
    for i in range(5):
        sink.record(scored(i))
    await wait_for(lambda: sink.unpublished == 5, timeout_s=5, interval_s=0.01)
    for i in range(5, 8):
        sink.record(scored(i))
    await wait_for(lambda: sink.published == 3, timeout_s=5, interval_s=0.01)
    task.cancel()
    assert (sink.unpublished, sink.published) == (5, 3)


async def test_hanging_broker_times_out_and_full_buffer_drops_without_blocking():
    async def publish(batch):
        await asyncio.sleep(3600)

    sink = PredictionSink(publish, capacity=10, batch_size=4, publish_timeout_s=0.05, linger_s=0)
    task = asyncio.create_task(sink.run())
    for i in range(10):
        sink.record(scored(i))
    await asyncio.sleep(0)  # the publisher took 4 and hangs
    for i in range(10, 20):
        sink.record(scored(i))  # returns at once even though nothing drains
    assert sink.unpublished == 6  # 4 in flight + 10 buffered; 6 dropped at once
    await wait_for(lambda: sink.unpublished == 20, timeout_s=5, interval_s=0.01)
    task.cancel()
    assert sink.published == 0
