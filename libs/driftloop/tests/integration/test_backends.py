"""The throwaway PostgreSQL and Redis servers the suite starts for itself."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest
import redis

from driftloop.platform import backends

pytestmark = pytest.mark.integration


def _listening(url: str) -> bool:
    u = urlparse(url)
    try:
        with socket.create_connection((u.hostname, u.port), timeout=1):
            return True
    except OSError:
        return False


def test_postgres_starts_empty_and_is_gone_afterwards() -> None:
    with backends.postgres() as url:
        with psycopg.connect(url) as conn:
            conn.execute("CREATE TABLE t (x int)")
            conn.execute("INSERT INTO t VALUES (1)")
            assert conn.execute("SELECT count(*) FROM t").fetchone() == (1,)
            row = conn.execute("SHOW data_directory").fetchone()
        assert row is not None
        data = Path(row[0])
        assert data.is_dir()
    assert not _listening(url)
    assert not data.exists()


def test_redis_starts_empty_and_is_gone_afterwards() -> None:
    with backends.redis() as url:
        client = redis.Redis.from_url(url)
        assert client.dbsize() == 0
        client.set("k", "v")
        assert client.get("k") == b"v"
        client.close()
    assert not _listening(url)


def test_missing_binaries_say_how_to_provide_a_server(monkeypatch) -> None:
    monkeypatch.setattr(backends, "postgres_bindir", lambda: None)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(backends.ServerUnavailable, match="DRIFTLOOP_TEST_POSTGRES_URL"):
        with backends.postgres():
            pass
    with pytest.raises(backends.ServerUnavailable, match="apt-get install"):
        with backends.redis():
            pass
