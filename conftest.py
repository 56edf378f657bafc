"""Root conftest: the shared test fixtures (real embedded broker, ports)."""

pytest_plugins = ["driftloop.platform.testing"]

import os  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """Stand-in until main's session fixture lands: a running server named by
    DRIFTLOOP_TEST_POSTGRES_URL."""
    return os.environ.get(
        "DRIFTLOOP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
    )


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Stand-in until main's session fixture lands: a running server named by
    DRIFTLOOP_TEST_REDIS_URL."""
    return os.environ.get("DRIFTLOOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
