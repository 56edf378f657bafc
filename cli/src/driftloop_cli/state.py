"""The run-state file that `driftloop up` (or a `driftloop demo` that started
its own platform) writes, so that every other command, in any terminal, finds
the running platform: its Kafka, port offset and process ids."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class RunState:
    up_pid: int
    kafka: str
    port_offset: int
    services: dict[str, dict[str, int]] = field(default_factory=dict)
    broker_pid: int | None = None

    @staticmethod
    def path(data_dir: Path) -> Path:
        return data_dir / "run" / "platform.json"

    def write(self, data_dir: Path) -> None:
        path = self.path(data_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.replace(tmp, path)

    @classmethod
    def read(cls, data_dir: Path) -> RunState | None:
        try:
            return cls(**json.loads(cls.path(data_dir).read_text()))
        except (OSError, ValueError, TypeError):
            return None

    @classmethod
    def clear(cls, data_dir: Path) -> None:
        cls.path(data_dir).unlink(missing_ok=True)

    def running(self) -> bool:
        """Whether the process that wrote this file still runs."""
        return alive(self.up_pid)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # an exited process its parent has not reaped yet is not running
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True
