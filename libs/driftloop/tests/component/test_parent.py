"""A service process ends when the supervisor that started it is killed
outright (driftloop.platform.parent), and at once when it is gone already."""

import os
import signal
import subprocess
import sys
import time

CHILD = (
    "import time; from driftloop.platform.parent import die_with_parent; "
    "die_with_parent(); print('ready', flush=True); time.sleep(120)"
)
PARENT = f"""
import os, subprocess, sys, time
child = subprocess.Popen(
    [sys.executable, "-c", {CHILD!r}],
    env={{**os.environ, "DRIFTLOOP_PARENT_PID": str(os.getpid())}},
    stdout=subprocess.PIPE, text=True,
)
assert child.stdout.readline() == "ready\\n"
print(child.pid, flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) is gone as far as we care.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_child_ends_when_its_parent_is_killed_with_sigkill():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(30)
        deadline = time.monotonic() + 30
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child), "the child outlived its parent"
    finally:
        parent.kill()
        parent.wait(30)


def test_a_child_whose_parent_is_already_gone_stops_at_once():
    env = {**os.environ, "DRIFTLOOP_PARENT_PID": "1"}  # not our parent: it is "gone"
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, timeout=60, capture_output=True)
    assert done.returncode == -signal.SIGTERM and b"ready" not in done.stdout
