"""Runs the `driftloop` command as a user would, in a process whose every
descendant carries a marker, so that a test can see what is left and a
finaliser can stop it whatever happened."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from driftloop.platform.testing import free_port, free_port_offset

CLI = [sys.executable, "-m", "driftloop_cli"]
MARK = "DRIFTLOOP_TEST_MARK"


def marked(mark: str) -> list[int]:
    """Pids of the live processes whose environment carries ``mark``."""
    needle = f"{MARK}={mark}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if stat[0] != "Z":
                    pids.append(int(entry.name))
        except OSError:
            continue
    return pids


class Cli:
    """The CLI with its own data dir, ports and process marker."""

    def __init__(self, tmp_path: Path) -> None:
        self.mark = uuid.uuid4().hex
        self.data_dir = tmp_path / "var"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLOOP_")}
        self.env.update(
            DRIFTLOOP_DATA_DIR=str(self.data_dir),
            DRIFTLOOP_PORT_OFFSET=str(free_port_offset()),
            DRIFTLOOP_KAFKA_EMBEDDED_PORT=str(free_port()),
            **{MARK: self.mark},
        )
        self.cwd = tmp_path

    def run(self, *args: str, timeout: float = 120, env: dict[str, str] | None = None):
        return subprocess.run(
            [*CLI, *args],
            env={**self.env, **(env or {})},
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*CLI, *args],
            env={**self.env, **(env or {})},
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def left(self) -> list[int]:
        return marked(self.mark)

    def kill_all(self) -> None:
        for pid in self.left():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


@pytest.fixture
def cli(tmp_path):
    c = Cli(tmp_path)
    yield c
    c.kill_all()
