"""`driftloop up --replicas 2` (the supervisor behind it): two processes of a
service, each with its replica id and its own ports, all healthy, sharing
the service's data directory; a graceful stop ends each with 0."""

from pathlib import Path

import pytest

from driftloop.platform.settings import ServiceSettings
from driftloop.platform.testing import free_port, free_port_offset
from driftloop_cli.health import check
from driftloop_cli.supervisor import Platform

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

SPEC = "cli/src/driftloop_cli/specs/demo.yaml"


async def test_two_replicas_of_each_service_come_up_on_their_own_ports(tmp_path, monkeypatch):
    monkeypatch.setenv("DRIFTLOOP_PORT_OFFSET", str(free_port_offset(replicas=2)))
    monkeypatch.setenv("DRIFTLOOP_KAFKA_EMBEDDED_PORT", str(free_port()))
    monkeypatch.delenv("DRIFTLOOP_KAFKA_BOOTSTRAP", raising=False)
    settings = ServiceSettings()
    spec = Path(__file__).parents[2] / SPEC
    platform = Platform(
        settings,
        spec,
        tmp_path / "var",
        services=["registry", "serving"],
        start_timeout_s=180,
        replicas=2,
    )
    try:
        await platform.start()
        assert sorted(platform.children) == ["registry", "registry-1", "serving", "serving-1"]
        addresses = {c.address for c in platform.children.values()}
        assert len(addresses) == 4
        for child in platform.children.values():
            assert await check(child.address, timeout=5.0) == "SERVING", child.log_tail()
        # Both registry replicas use the one SQLite file of the service's directory.
        assert (tmp_path / "var" / "registry" / "registry.db").exists()
    finally:
        codes = await platform.stop()
    assert codes == dict.fromkeys(codes, 0), codes
