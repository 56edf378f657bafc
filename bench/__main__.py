"""`python -m bench` (or `make bench`): every side-by-side benchmark in one run,
one markdown report.

Each benchmark is a script `bench/<name>.py` that measures driftloop and its
peer in the same run and writes `bench/results/<name>.md`; this runs them in
turn and joins their tables into `bench/results/README.md`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
ORDER = ("serving", "ingestion", "feature", "feature_state", "training", "monitoring", "loop")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs (smoke test)")
    parser.add_argument("only", nargs="*", help=f"benchmarks to run (default: {ORDER})")
    args = parser.parse_args()
    names = args.only or [n for n in ORDER if (HERE / f"{n}.py").exists()]
    failed = []
    for name in names:
        print(f"== bench {name}", flush=True)
        cmd = [sys.executable, str(HERE / f"{name}.py"), *(["--quick"] if args.quick else [])]
        if subprocess.run(cmd, check=False).returncode != 0:
            failed.append(name)
    parts = [
        "# driftloop benchmarks\n",
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{_cores()} cores{' (quick mode)' if args.quick else ''}. Each section compares "
        "driftloop with its peer measured in the same run; ratios are driftloop / peer.\n",
    ]
    for name in ORDER:
        # A benchmark run with --quick writes <name>-quick.md.
        for result in (HERE / "results" / f"{name}.md", HERE / "results" / f"{name}-quick.md"):
            if result.exists():
                parts.append(result.read_text())
                break
    (HERE / "results" / "README.md").write_text("\n".join(parts))
    print(f"wrote {HERE / 'results' / 'README.md'}" + (f"; failed: {failed}" if failed else ""))
    return 1 if failed else 0


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    raise SystemExit(main())
