"""The whole platform as six real processes on its own broker and ports."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from driftloop.platform.settings import KafkaSettings, ServiceSettings
from driftloop.platform.testing import broker_kind, free_port, free_port_offset
from driftloop_cli.supervisor import Platform

SPEC = Path(__file__).parent / "loop-spec.yaml"


@pytest.fixture
async def platform(tmp_path) -> AsyncIterator[Platform]:
    settings = ServiceSettings(
        data_dir=tmp_path / "var",
        port_offset=free_port_offset(),
        kafka=KafkaSettings(embedded=broker_kind(), embedded_port=free_port()),
    )
    running = Platform(settings, SPEC, settings.data_dir)
    try:
        await running.start()
        yield running
    finally:
        codes = await running.stop()
        # A service that crashed during the test would show here.
        assert all(code == 0 for code in codes.values()), _logs(running, codes)


def _logs(platform: Platform, codes: dict) -> str:
    return "\n".join(
        f"--- {name} exited {code}:\n{platform.children[name].log_tail(40)}"
        for name, code in codes.items()
        if code != 0
    )
