"""Root conftest: the shared test fixtures (real embedded broker, ports)."""

pytest_plugins = ["driftloop.platform.testing"]
