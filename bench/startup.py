"""Where `driftloop up`'s time goes: the CLI's own start, each service's import
CPU on its own, and N runs of `driftloop up` measured from the command as a
user types it to the run file (all six healthy), with each service's time
from its spawn to its first healthy answer and the CPU it had used by then.
Writes bench/results/startup.md (the measured part; text from "## What this
says" on is kept).

    python bench/startup.py [--runs N] [--out FILE]

Run it with another checkout's interpreter (`/other/.venv/bin/python
bench/startup.py --out before.md`) to measure that checkout's code.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "libs/driftloop/src"))

from driftloop.platform.ports import SERVICES  # noqa: E402
from driftloop.platform.testing import free_port, free_port_offset  # noqa: E402

KEPT = "## What this says"
HEALTHY = re.compile(r"✓ (\w+) healthy at \S+ \(([\d.]+) s after its start, ([\d.]+) s CPU\)")


def cpu_of(argv: list[str]) -> tuple[float, float]:
    """(wall, user+sys CPU) of a child process run to its end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    subprocess.run(argv, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.monotonic() - started, cpu


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_up() -> dict[str, object]:
    """One `driftloop up` on free ports and a fresh data dir, stopped at the end."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DRIFTLOOP_DATA_DIR": f"{tmp}/var",
            "DRIFTLOOP_PORT_OFFSET": str(free_port_offset()),
            "DRIFTLOOP_KAFKA_EMBEDDED_PORT": str(free_port()),
        }
        load = os.getloadavg()[0]
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
        up_cpu = _cpu_seconds(up.pid)
        up.send_signal(signal.SIGTERM)
        _, err = up.communicate(timeout=120)
    services = {m[1]: (float(m[2]), float(m[3])) for m in HEALTHY.finditer(err)}
    return {"load": load, "took": took, "up_cpu": up_cpu, "services": services}


def measure(runs: int) -> list[str]:
    load = os.getloadavg()[0]
    help_wall, help_cpu = cpu_of([sys.executable, "-m", "driftloop_cli", "--help"])
    _, up_import = cpu_of(
        [sys.executable, "-c", "import driftloop_cli.commands.up, driftloop_cli.supervisor"]
    )
    imports = {
        name: cpu_of([sys.executable, "-c", f"import {info.module}.main"])[1]
        for name, info in SERVICES.items()
    }
    ups = [one_up() for _ in range(runs)]

    def median_of(name: str, i: int) -> float:
        return statistics.median(u["services"][name][i] for u in ups)  # type: ignore[index]

    took = statistics.median(u["took"] for u in ups)  # type: ignore[misc]
    loads = ", ".join(f"{u['load']:.1f}" for u in ups)
    tooks = ", ".join(f"{u['took']:.1f}" for u in ups)
    return [
        "# `driftloop up`: where the time goes\n",
        f"Run {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {os.cpu_count()} cores, "
        f"`{sys.executable}`; load average {load:.1f} at the start, "
        f"{loads} at each `up` (a busy machine "
        "stretches every wall time; CPU seconds are what a quiet machine pays).\n",
        f"- The CLI: `driftloop --help` {help_cpu:.2f} s CPU ({help_wall:.2f} s wall); "
        f"importing what `up` runs: {up_import:.2f} s CPU.",
        f"- `driftloop up` to all six healthy, from the command: **{took:.1f} s** "
        f"(median of {runs}: {tooks} s); "
        f"`up`'s own CPU by then: {statistics.median(u['up_cpu'] for u in ups):.2f} s "
        "(median).",
        "",
        "| service | import of its main module: CPU s | healthy after its spawn: s "
        "(median) | CPU used by then: s (median) |",
        "|---|---|---|---|",
        *(
            f"| {n} | {imports[n]:.2f} | {median_of(n, 0):.1f} | {median_of(n, 1):.2f} |"
            for n in SERVICES
        ),
        f"| **all six** | **{sum(imports.values()):.2f}** | | "
        f"**{sum(median_of(n, 1) for n in SERVICES):.2f}** |",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/startup.md")
    args = parser.parse_args()
    lines = measure(args.runs)
    kept = args.out.read_text().split(KEPT, 1) if args.out.exists() else []
    text = "\n".join(lines) + (f"\n{KEPT}{kept[1]}" if len(kept) == 2 else "")
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
