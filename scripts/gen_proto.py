"""Generate the Python stubs for every .proto under proto/ into a target folder.

Run through `make proto` (writes into libs/driftloop/src) or `make proto-check`
(writes into a temporary folder and fails when the committed stubs differ).
"""

from __future__ import annotations

import sys
from pathlib import Path

from grpc_tools import protoc

try:  # importlib.resources keeps the well-known types next to grpc_tools
    from importlib.resources import files

    WELL_KNOWN = str(files("grpc_tools") / "_proto")
except Exception:  # pragma: no cover
    WELL_KNOWN = ""

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto"


def generate(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    sources = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    args = [
        "protoc",
        f"-I{PROTO}",
        f"-I{WELL_KNOWN}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    # Every generated folder is a regular package, so tools and type checkers
    # see one import path.
    for src in sources:
        folder = (out / src).parent
        while folder != out:
            init = folder / "__init__.py"
            if not init.exists():
                init.write_text("")
            folder = folder.parent


if __name__ == "__main__":
    generate(Path(sys.argv[1]))
