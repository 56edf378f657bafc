"""Each service starts light: building it (its composition root, on the demo
spec) loads none of the libraries that cost up to seconds of CPU to import
and are needed only later or elsewhere — scipy.stats and river's drift
detectors with the first model (monitoring), scikit-learn and the ONNX
converters in the training fork server, redis' client only with a Redis
online store (feature). Six services start at once on two cores, so the sum
of their start-up CPU is what `driftloop up` waits for."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from driftloop.platform.ports import SERVICES
from driftloop.platform.testing import free_port, free_port_offset

DEMO_SPEC = Path(__file__).parent.parent / "cli/src/driftloop_cli/specs/demo.yaml"

HEAVY = (
    "scipy.stats",
    "sklearn",
    "skl2onnx",
    "onnx",
    "pandas",
    "matplotlib",
    "river.drift",
    "river.datasets",
    "redis",
)

PROBE = """
import asyncio, importlib, json, sys
for name in sys.argv[2:]:
    importlib.import_module(name)
main = importlib.import_module(sys.argv[1] + ".main")

async def build():
    main.build()

asyncio.run(build())
print(json.dumps(sorted(m for m in %r if m in sys.modules)))
"""


def heavy_after_build(module: str, tmp_path: Path, *also: str) -> list[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "DRIFTLOOP_DATA_DIR": str(tmp_path),
        "DRIFTLOOP_SPEC": str(DEMO_SPEC),
        "DRIFTLOOP_PORT_OFFSET": str(free_port_offset()),
        "DRIFTLOOP_KAFKA_EMBEDDED_PORT": str(free_port()),
        "DRIFTLOOP_LOG_FORMAT": "json",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,), module, *also],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("service", list(SERVICES))
def test_building_a_service_loads_no_heavy_library(service, tmp_path):
    assert heavy_after_build(SERVICES[service].module, tmp_path) == []


def test_the_probe_would_see_a_heavy_import(tmp_path):
    # The budget test can fail: monitoring's synthetic traffic imports river's datasets.
    seen = heavy_after_build("driftloop_monitoring", tmp_path, "driftloop_monitoring.synthetic")
    assert "river.datasets" in seen
