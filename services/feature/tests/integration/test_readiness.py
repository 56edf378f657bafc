"""Feature readiness means its online store answers: with Redis, the service
is ready, and NOT_SERVING (still live) once Redis is gone. Real process,
real broker, a Redis server of the test's own."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from driftloop.platform import backends
from driftloop.platform.testing import readiness_follows, unique

from .support import start_feature, write_spec

pytestmark = pytest.mark.integration


@pytest.mark.timeout(900)
async def test_feature_is_not_ready_once_its_online_store_is_gone(kafka, tmp_path: Path):
    spec = write_spec(tmp_path / "spec.yaml", unique("s"), ["v"])
    redis = contextlib.ExitStack()
    try:
        url = redis.enter_context(backends.redis())
    except backends.ServerUnavailable as e:
        pytest.fail(str(e), pytrace=False)
    try:
        _, address = start_feature(
            kafka,
            spec,
            tmp_path,
            unique("feature"),
            DRIFTLOOP_FEATURE_ONLINE_STORE="redis",
            DRIFTLOOP_FEATURE_REDIS_URL=url,
            DRIFTLOOP_READINESS_INTERVAL_S="0.5",
        )
        await readiness_follows(address, redis.close)
    finally:
        redis.close()
