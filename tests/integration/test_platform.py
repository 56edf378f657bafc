"""`driftloop up/status/down` and `events tail` as a user runs them: real
processes, the real embedded broker, real gRPC health checks."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from driftloop.ingestion.v1.events_pb2 import LabelReceived
from driftloop.platform import topics
from driftloop.platform.bus import EventBus, make_broker
from driftloop.platform.ports import SERVICES
from driftloop.platform.testing import free_port, free_port_offset, unique

# Generous deadlines: on a busy 2-core machine the six services' imports alone
# take minutes (bench/results/startup.md).
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

CLI = [sys.executable, "-m", "driftloop_cli"]


def _env(tmp_path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLOOP_")}
    env.update(
        DRIFTLOOP_DATA_DIR=str(tmp_path / "var"),
        DRIFTLOOP_PORT_OFFSET=str(free_port_offset()),
        DRIFTLOOP_KAFKA_EMBEDDED_PORT=str(free_port()),
        **extra,
    )
    return env


def _status(env) -> tuple[int, dict]:
    done = subprocess.run(
        [*CLI, "status", "--json"], env=env, capture_output=True, text=True, timeout=300
    )
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else {}


def test_up_brings_all_six_services_to_healthy_and_sigterm_stops_each_with_0(tmp_path):
    env = _env(tmp_path)
    up = subprocess.Popen(
        [*CLI, "up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 400
        code, report = _status(env)
        while code != 0 and time.monotonic() < deadline and up.poll() is None:
            time.sleep(0.5)
            code, report = _status(env)
        assert code == 0, f"not healthy: {report}\n{up.stdout.read() if up.poll() else ''}"
        assert report["healthy"] is True
        assert set(report["services"]) == set(SERVICES)
        assert {s["status"] for s in report["services"].values()} == {"SERVING"}
        offset = int(env["DRIFTLOOP_PORT_OFFSET"])
        assert report["services"]["serving"]["grpc"] == f"127.0.0.1:{50055 + offset}"
    finally:
        up.send_signal(signal.SIGTERM)
        output, _ = up.communicate(timeout=180)
    assert up.returncode == 0, output
    for name in SERVICES:
        assert f"{name} stopped (exit 0)" in output, output
    # Nothing is left listening.
    code, report = _status(env)
    assert code == 1
    assert {s["status"] for s in report["services"].values()} == {"UNREACHABLE"}


def test_down_from_another_terminal_stops_a_running_platform(tmp_path):
    env = _env(tmp_path)
    up = subprocess.Popen(
        [*CLI, "up", "--only", "registry", "--only", "ingestion"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        state = tmp_path / "var" / "run" / "platform.json"
        deadline = time.monotonic() + 400
        while not state.exists() and time.monotonic() < deadline and up.poll() is None:
            time.sleep(0.2)
        assert state.exists(), up.stdout.read() if up.poll() is not None else "no state file"
        down = subprocess.run([*CLI, "down"], env=env, capture_output=True, text=True, timeout=240)
        assert down.returncode == 0, down.stderr
        assert "driftloop stopped" in down.stdout + down.stderr
        output, _ = up.communicate(timeout=180)
    finally:
        if up.poll() is None:
            up.kill()
    assert up.returncode == 0
    assert "registry stopped (exit 0)" in output
    assert not state.exists()


def test_a_taken_port_is_named_with_the_setting_that_moves_it(tmp_path):
    env = _env(tmp_path)
    port = SERVICES["registry"].grpc_port + int(env["DRIFTLOOP_PORT_OFFSET"])
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        done = subprocess.run(
            [*CLI, "up", "--only", "registry"], env=env, capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 1
    assert f"registry: gRPC port {port} already in use" in done.stderr
    assert "DRIFTLOOP_PORT_OFFSET" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_service_that_cannot_start_is_reported_with_its_exit_code_and_log_tail(tmp_path):
    env = _env(tmp_path, DRIFTLOOP_VET_CONCURRENCY="none")
    done = subprocess.run(
        [*CLI, "up", "--only", "registry"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert "registry exited with code 1 while starting" in done.stderr
    assert "last lines of" in done.stderr
    # The log tail is the service's own explanation.
    assert "DRIFTLOOP_VET_CONCURRENCY" in done.stderr
    assert "\x1b[" not in done.stderr


def test_a_bad_setting_fails_the_service_at_start_naming_the_variable(tmp_path):
    env = _env(tmp_path, DRIFTLOOP_GRPC_PORT="not-a-port")
    done = subprocess.run(
        [sys.executable, "-m", "driftloop_registry"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "DRIFTLOOP_GRPC_PORT" in done.stderr
    assert "not-a-port" in done.stderr


async def test_events_tail_prints_events_as_json_with_cloudevents_headers(kafka, tmp_path):
    broker = make_broker(kafka, "tail-test")
    bus = EventBus(broker, "test", kafka)
    event = LabelReceived(meta=bus.meta(), stream="loans", record_id=unique("r"))
    await broker.connect()
    try:
        await bus.publish(event, key=event.record_id)
    finally:
        await broker.stop()
    env = _env(tmp_path, DRIFTLOOP_KAFKA_BOOTSTRAP=kafka.servers)
    done = subprocess.run(
        [*CLI, "events", "tail", "labels", "--from-beginning", "--idle-timeout", "3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    (mine,) = [x for x in lines if x.get("event", {}).get("record_id") == event.record_id]
    assert mine["topic"] == topics.LABELS.name
    assert mine["key"] == event.record_id
    assert mine["headers"]["ce_id"] == event.meta.event_id
    assert mine["headers"]["ce_type"] == "driftloop.ingestion.v1.LabelReceived"
    assert mine["event"]["stream"] == "loans"


def test_up_fails_loudly_when_another_broker_holds_its_port(kafka, tmp_path):
    # The session's broker already answers on this port: `up` must not attach to it.
    env = _env(tmp_path)
    env["DRIFTLOOP_KAFKA_EMBEDDED_PORT"] = str(kafka.embedded_port)
    done = subprocess.run(
        [*CLI, "up", "--only", "registry"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"port {kafka.embedded_port} already in use" in done.stdout + done.stderr
    assert "is up" not in done.stdout


def test_status_honours_service_addresses(tmp_path):
    with socket.socket() as listener:  # something that is not a gRPC server
        listener.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{listener.getsockname()[1]}"
        env = _env(tmp_path, DRIFTLOOP_SERVICE_ADDRESSES=json.dumps({"registry": address}))
        code, report = _status(env)
    assert code == 1
    assert report["services"]["registry"]["grpc"] == address
    offset = int(env["DRIFTLOOP_PORT_OFFSET"])
    assert report["services"]["serving"]["grpc"] == f"127.0.0.1:{50055 + offset}"
