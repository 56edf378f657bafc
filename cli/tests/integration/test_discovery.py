"""One rule finds a running platform in every command: a second terminal in
the same folder (or with --data-dir) needs none of the first one's variables."""

import json
import os

import pytest

from driftloop.platform.testing import free_port, wait_for

pytestmark = pytest.mark.integration


def _bare_env(cli) -> dict[str, str]:
    """A second terminal: no DRIFTLOOP_* variable at all."""
    return {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLOOP_")} | {
        "DRIFTLOOP_TEST_MARK": cli.mark
    }


async def test_every_command_finds_the_platform_through_the_data_dir(cli):
    # `up` runs in tmp_path with the default data dir (./var), its ports moved.
    env = {"DRIFTLOOP_DATA_DIR": "var"}
    up = cli.start("up", "--only", "registry", env=env)
    try:
        run_file = cli.cwd / "var" / "run" / "platform.json"
        await wait_for(lambda: run_file.exists() or up.poll() is not None, timeout_s=180)
        assert up.poll() is None, up.communicate()
        second = _bare_env(cli)
        for args in (["status", "--json"], ["status", "--json", "--data-dir", "var"]):
            done = cli.run(*args, env=second, own=False)
            report = json.loads(done.stdout)
            assert report["services"]["registry"]["status"] == "SERVING", done
        # The registry behind `models` and the broker behind `events tail`.
        listed = cli.run("models", "list", "--json", env=second, own=False)
        assert listed.returncode == 0 and json.loads(listed.stdout) == [], listed.stderr
        tail = cli.run("events", "tail", "models", "--idle-timeout", "2", env=second, own=False)
        assert tail.returncode == 0, tail.stderr
        assert f"127.0.0.1:{cli.env['DRIFTLOOP_KAFKA_EMBEDDED_PORT']}" in tail.stderr
        # Elsewhere, --data-dir points at it.
        elsewhere = {**second}
        down = cli.run("down", "--data-dir", str(cli.cwd / "var"), env=elsewhere, own=False)
        assert down.returncode == 0 and "driftloop stopped" in down.stdout, down.stderr
        up.communicate(timeout=120)
    finally:
        if up.poll() is None:
            up.kill()
            up.communicate()
    assert up.returncode == 0
    assert not run_file.exists()
    stopped = cli.run("down", env=_bare_env(cli), own=False)
    assert "not running" in stopped.stdout


def test_no_broker_is_one_line_not_a_traceback(cli):
    done = cli.run(
        "events",
        "tail",
        "drift",
        "--idle-timeout",
        "1",
        env={"DRIFTLOOP_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}"},
    )
    assert done.returncode == 1
    assert "no Kafka broker answers at 127.0.0.1:" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_listings_in_a_pipe_are_plain_lines_with_nothing_cut(cli):
    done = cli.run("events", "topics", env={"COLUMNS": "40"})
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[1] == "topic\tkey\tevents"
    assert any("driftloop.monitoring.v1.DriftDetected" in line for line in lines)
    assert "…" not in done.stdout
    as_json = json.loads(cli.run("events", "topics", "--json").stdout)
    assert {"topic", "key", "events"} == set(as_json[0])


def test_up_without_a_reachable_broker_says_so_in_one_line(cli):
    done = cli.run("up", env={"DRIFTLOOP_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}"})
    assert done.returncode == 1
    assert "no Kafka broker answers at 127.0.0.1:" in done.stderr
    assert "DRIFTLOOP_KAFKA_BOOTSTRAP" in done.stderr
    assert "Traceback" not in done.stderr
    assert cli.left() == []
