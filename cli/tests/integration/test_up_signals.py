"""Ctrl-C or SIGTERM at any moment of `driftloop up` stops what it started
and leaves no process behind (the training service's fork server included)."""

import signal
import time

import pytest

from driftloop.platform.testing import wait_for

pytestmark = pytest.mark.integration


def _logs(cli, *names: str) -> bool:
    return all((cli.data_dir / "logs" / f"{n}.log").exists() for n in names)


@pytest.mark.parametrize(
    ("moment", "reached"),
    [
        ("while the broker starts", lambda cli: _logs(cli, "broker")),
        (
            "while the services start",
            lambda cli: _logs(cli, "registry", "training", "monitoring"),
        ),
    ],
)
async def test_sigterm_during_start_stops_everything_it_started(cli, moment, reached):
    up = cli.start("up")
    try:
        await wait_for(lambda: reached(cli) or up.poll() is not None, timeout_s=120)
        assert up.poll() is None, up.communicate()
        assert cli.left(), "up started nothing to stop"
        up.send_signal(signal.SIGTERM)
        _, stderr = up.communicate(timeout=120)
    finally:
        if up.poll() is None:
            up.kill()
            up.communicate()
    assert up.returncode == 130, stderr
    assert "interrupted while starting" in stderr
    assert "Traceback" not in stderr
    # Whatever the services spawned exits with them, within moments.
    deadline = time.monotonic() + 30
    while cli.left() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert cli.left() == [], f"{moment}: processes left behind"
    assert not (cli.data_dir / "run" / "platform.json").exists()


async def test_sigterm_when_up_stops_the_fork_server_too(cli):
    up = cli.start("up", "--only", "training")
    try:
        await wait_for(
            lambda: (cli.data_dir / "run" / "platform.json").exists() or up.poll() is not None,
            timeout_s=120,
        )
        assert up.poll() is None, up.communicate()
        # The training service warms its fork server up at start.
        await wait_for(
            lambda: len(cli.left()) >= 4, timeout_s=120
        )  # up, broker, training, forkserver
        up.send_signal(signal.SIGTERM)
        _, stderr = up.communicate(timeout=120)
    finally:
        if up.poll() is None:
            up.kill()
            up.communicate()
    assert up.returncode == 0, stderr
    assert cli.left() == []
