"""Where `driftloop up`'s time goes: the CLI's own start, the broker, the
topics, and each service from its spawn to its first healthy answer (with the
CPU it used), measured from the command as a user types it; and each
service's import CPU on its own. Writes bench/results/startup.md.

    python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "libs/driftloop/src"))

from driftloop.platform.ports import SERVICES  # noqa: E402
from driftloop.platform.testing import free_port, free_port_offset  # noqa: E402


def cpu_of(argv: list[str]) -> tuple[float, float]:
    """(wall, user+sys CPU) of a child process run to its end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    subprocess.run(argv, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.monotonic() - started, cpu


def one_up() -> tuple[float, list[str]]:
    """Seconds from the command to the run file, and `up`'s progress lines."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DRIFTLOOP_DATA_DIR": f"{tmp}/var",
            "DRIFTLOOP_PORT_OFFSET": str(free_port_offset()),
            "DRIFTLOOP_KAFKA_EMBEDDED_PORT": str(free_port()),
        }
        started = time.monotonic()
        up = subprocess.Popen(
            [sys.executable, "-m", "driftloop_cli", "up"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        run_file = Path(tmp) / "var/run/platform.json"
        while not run_file.exists():
            if up.poll() is not None:
                raise SystemExit(f"up failed:\n{up.stderr.read() if up.stderr else ''}")
            time.sleep(0.05)
        took = time.monotonic() - started
        up.send_signal(signal.SIGTERM)
        _, err = up.communicate(timeout=120)
    return took, [
        line.strip() for line in err.splitlines() if "✓" in line and "stopped" not in line
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    cli_wall, cli_cpu = cpu_of([sys.executable, "-m", "driftloop_cli", "--help"])
    imports = {
        name: cpu_of([sys.executable, "-c", f"import {info.module}.main"])
        for name, info in SERVICES.items()
    }
    runs = [one_up() for _ in range(args.runs)]
    lines = [
        "# `driftloop up`: where the time goes\n",
        f"Run {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {os.cpu_count()} cores, "
        f"load average {load:.1f} at the start (a busy machine stretches every wall time; "
        "CPU seconds are what a quiet machine pays).\n",
        f"- The CLI itself (`driftloop --help`): {cli_wall:.2f} s wall, {cli_cpu:.2f} s CPU.",
        "",
        "| service | import of its main module: CPU s | wall s |",
        "|---|---|---|",
        *(f"| {n} | {c:.2f} | {w:.2f} |" for n, (w, c) in imports.items()),
        f"| **all six** | **{sum(c for _, c in imports.values()):.2f}** | |",
        "",
    ]
    for i, (took, steps) in enumerate(runs, 1):
        lines += [
            f"Run {i}: all six healthy **{took:.1f} s** after the command "
            "(the run file written). `up`'s own steps, by its clock:",
            "",
            *(f"    {s}" for s in steps),
            "",
        ]
    out = ROOT / "bench/results/startup.md"
    out.write_text("\n".join(lines))
    print(out.read_text())


if __name__ == "__main__":
    main()
