"""A third-party OIP client against a real serving process: tritonclient
(gRPC), in its own virtualenv and process, exercising unary, entity-keyed and
streaming inference; then the prediction events it caused, read back from the
real broker."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from driftloop.platform import topics
from driftloop.platform.testing import (
    ServiceProcess,
    end_offsets,
    free_port,
    read_from,
    unique,
    wait_for,
)
from driftloop.serving.v1.events_pb2 import PredictionMade

pytestmark = pytest.mark.integration
TRITONCLIENT = "tritonclient[grpc]==2.73.0"
ROOT = Path(__file__).resolve().parents[4]
VENV = ROOT / "var" / "venvs" / "tritonclient"
PROBE = Path(__file__).with_name("tritonclient_probe.py")
WIDTH = 20


@pytest.fixture(scope="session")
def tritonclient_python() -> Path:
    """tritonclient's own virtualenv (made once, under var/; needs PyPI)."""
    python = VENV / "bin" / "python"
    ready = python.exists() and not (
        subprocess.run([python, "-c", "import tritonclient.grpc"], capture_output=True).returncode
    )
    if not ready:
        subprocess.run([sys.executable, "-m", "venv", "--clear", VENV], check=True)
        subprocess.run(
            [python, "-m", "pip", "install", "--quiet", TRITONCLIENT, "numpy"], check=True
        )
    return python


async def test_tritonclient_unary_entity_and_stream(
    kafka, tmp_path: Path, artifacts, fake_upstream, tritonclient_python
):
    model = unique("tc")
    fake, features, address = fake_upstream
    values = [0.05 * i for i in range(WIDTH)]
    features.put("txn", "cust-1", values, "rec-1")
    fake.add(model, 1, artifacts["v1"], feature_view="txn", feature_view_version=1)
    fake.aliases[model] = {"champion": 1}
    port = free_port()
    proc = ServiceProcess(
        "driftloop_serving",
        {
            "DRIFTLOOP_KAFKA_BOOTSTRAP": kafka.servers,
            "DRIFTLOOP_GRPC_PORT": str(port),
            "DRIFTLOOP_METRICS_ENABLED": "false",
            "DRIFTLOOP_DATA_DIR": str(tmp_path),
            "DRIFTLOOP_SERVICE_ADDRESSES": json.dumps({"registry": address, "feature": address}),
            "DRIFTLOOP_INSTANCE_ID": unique("i"),
            "DRIFTLOOP_STREAM_SCORING": "false",
            "DRIFTLOOP_LOG_FORMAT": "json",
        },
        tmp_path / "serving.log",
    )
    start = await end_offsets(kafka, topics.PREDICTIONS.name)
    proc.start()
    try:
        await asyncio.to_thread(proc.wait_healthy, f"127.0.0.1:{port}", 90)
        await wait_for(lambda: fake.downloads >= 1, timeout_s=60)
        run = await asyncio.to_thread(
            subprocess.run,
            [tritonclient_python, PROBE, f"127.0.0.1:{port}", model, "cust-1", json.dumps(values)],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        out = json.loads(run.stdout)
        key = model.encode()
        records = await read_from(
            kafka,
            topics.PREDICTIONS.name,
            start,
            count=25,
            timeout_s=60,
            predicate=lambda r: r.key == key,
        )
    finally:
        code = proc.terminate()
    assert code == 0, proc.tail()

    assert out["live"] and out["ready"]
    assert out["anonymous"]["id"] == "" and len(out["anonymous"]["labels"]) == 2
    assert out["named_id"] == "tc-named"
    assert out["empty"].startswith("StatusCode.INVALID_ARGUMENT") and "no rows" in out["empty"]
    entity = out["entity"]
    assert entity["id"] == "tc-entity"
    assert entity["probabilities"][0] == pytest.approx(entity["tensor_probabilities"][0])
    assert out["missing_entity"].startswith("StatusCode.NOT_FOUND")
    assert out["stream_ids"] == sorted([f"s{i}" for i in range(20)] + ["s-entity"])
    assert len(out["stream_errors"]) == 1 and "INVALID_ARGUMENT" in out["stream_errors"][0]

    # Every answered request published one event (the 2-row one with both rows),
    # the id-less one under a generated, flagged record id.
    events = [PredictionMade.FromString(r.value) for r in records]
    assert len(events) == 25
    by_request = {e.request_id: e for e in events}
    anonymous = by_request[""]
    assert anonymous.record_id_generated and anonymous.record_id and anonymous.rows.count == 2
    assert by_request["tc-entity"].vector_record_id == "rec-1"
    assert by_request["s-entity"].vector_record_id == "rec-1"
    assert {f"s{i}" for i in range(20)} <= by_request.keys()
