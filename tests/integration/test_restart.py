"""`driftloop down` and `up` again as an operator does it: the embedded broker
comes back empty, and local state kept from the first run (the feature
service's checkpoints) must be noticed as coming from another log and rebuilt,
so that every record after the restart gets its vector and its prediction."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from driftloop.feature.v1.events_pb2 import FeatureVectorComputed
from driftloop.platform import topics
from driftloop.platform.ports import SERVICES
from driftloop.platform.settings import KafkaSettings
from driftloop.platform.testing import free_port, free_port_offset, produce_raw, read_from
from driftloop.serving.v1.events_pb2 import PredictionMade

pytestmark = pytest.mark.integration

CLI = [sys.executable, "-m", "driftloop_cli"]
PARTS = ["ingestion", "feature", "registry", "serving"]
N = 300

SPEC = {
    "api_version": "driftloop/v1",
    "streams": [
        {
            "name": "pings",
            "id_field": "id",
            "entity_field": "user",
            "event_time_field": "ts",
            "fields": [
                {"name": "id", "type": "string", "required": False, "max_length": 64},
                {"name": "user", "type": "string", "max_length": 16},
                {"name": "ts", "type": "timestamp", "required": False},
                {"name": "x", "type": "float", "min": -1000, "max": 1000},
            ],
        }
    ],
    "feature_views": [
        {
            "name": "ping_features",
            "version": 1,
            "stream": "pings",
            "features": [
                {"name": "x", "kind": "passthrough", "field": "x"},
                {
                    "name": "x_mean_3",
                    "kind": "rolling",
                    "field": "x",
                    "agg": "mean",
                    "window_events": 3,
                },
            ],
        }
    ],
}


def _model(path: Path) -> Path:
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 2)).astype(np.float32)
    model = LogisticRegression().fit(x, (x[:, 0] > 0).astype(np.int64))
    onx = to_onnx(model, x[:1], options={id(model): {"zipmap": False}})
    onx.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "N"
    path.write_bytes(onx.SerializeToString())
    return path


class Platform:
    """`driftloop up` in the background, `driftloop down` to stop it."""

    def __init__(self, tmp: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLOOP_")}
        self.env.update(
            DRIFTLOOP_DATA_DIR=str(tmp / "var"),
            DRIFTLOOP_PORT_OFFSET=str(free_port_offset()),
            DRIFTLOOP_KAFKA_EMBEDDED_PORT=str(free_port()),
            DRIFTLOOP_LOG_FORMAT="json",
        )
        self.kafka = KafkaSettings(embedded_port=int(self.env["DRIFTLOOP_KAFKA_EMBEDDED_PORT"]))
        self.spec = tmp / "spec.json"
        self.spec.write_text(json.dumps(SPEC))
        self.logs = tmp / "var" / "logs"
        self.up: subprocess.Popen[str] | None = None

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [*CLI, *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def start(self) -> None:
        only = [x for name in PARTS for x in ("--only", name)]
        self.up = subprocess.Popen(
            [*CLI, "up", "--spec", str(self.spec), *only],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        state = Path(self.env["DRIFTLOOP_DATA_DIR"]) / "run" / "platform.json"
        deadline = time.monotonic() + 120
        while not state.exists() and time.monotonic() < deadline and self.up.poll() is None:
            time.sleep(0.2)
        assert state.exists(), self.up.communicate(timeout=30)[0]

    def stop(self) -> None:
        if self.up is None or self.up.poll() is not None:
            return
        try:
            self.cli("down")
            self.up.communicate(timeout=60)
        finally:
            if self.up.poll() is None:
                self.up.kill()
                self.up.wait()

    def metric(self, service: str, name: str, labels: str) -> float:
        port = SERVICES[service].metrics_port + int(self.env["DRIFTLOOP_PORT_OFFSET"])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
            text = reply.read().decode()
        lines = [x for x in text.splitlines() if x.startswith(f"{name}{{{labels}}}")]
        return float(lines[0].split()[-1]) if lines else 0.0


async def _records_in_and_scored(platform: Platform, prefix: str) -> tuple[set, set]:
    ids = {f"{prefix}-{i}" for i in range(N)}
    items = [
        (
            f"u{i % 20}".encode(),
            json.dumps({"id": f"{prefix}-{i}", "user": f"u{i % 20}", "x": float(i % 7)}).encode(),
        )
        for i in range(N)
    ]
    await produce_raw(platform.kafka, topics.RECORDS_RAW.name, items)

    def decode(kind):
        return lambda r: kind.FromString(r.value).record_id in ids

    vectors = await read_from(
        platform.kafka,
        topics.FEATURES.name,
        None,
        count=N,
        predicate=decode(FeatureVectorComputed),
        timeout_s=120,
    )
    predictions = await read_from(
        platform.kafka,
        topics.PREDICTIONS.name,
        None,
        count=N,
        predicate=decode(PredictionMade),
        timeout_s=120,
    )
    return (
        {FeatureVectorComputed.FromString(r.value).record_id for r in vectors},
        {PredictionMade.FromString(r.value).record_id for r in predictions},
    )


async def test_every_record_after_down_and_up_gets_its_vector_and_prediction(tmp_path):
    platform = Platform(tmp_path)
    try:
        platform.start()
        model = _model(tmp_path / "model.onnx")
        platform.cli(
            "models",
            "register",
            str(model),
            "--model",
            "pings-model",
            "--feature-view",
            "ping_features",
            "--feature-view-version",
            "1",
            "--feature-width",
            "2",
        )
        platform.cli("models", "promote", "pings-model", "1")
        vectors, predictions = await _records_in_and_scored(platform, "before")
        assert len(vectors) == N and len(predictions) == N
        platform.stop()

        # The broker starts empty: offsets from 0 again, and the feature
        # checkpoints of the first run say "applied up to offset ~100".
        platform.start()
        vectors, predictions = await _records_in_and_scored(platform, "after")
        assert len(vectors) == N, f"{N - len(vectors)} records got no vector"
        assert len(predictions) == N, f"{N - len(predictions)} records got no prediction"
        rebuilt = platform.metric(
            "feature",
            "driftloop_state_rebuilds_total",
            'reason="other_cluster",state="feature.partition"',
        )
        assert rebuilt >= 1
    finally:
        platform.stop()
    log = (platform.logs / "feature.log").read_text()
    assert '"feature.state_from_another_log"' in log
