"""Fails when a function of the platform's own code is longer than 100 lines.

The house style (docs: STYLE.md, "Size") wants code small enough to hold in
one's head; a function past 100 lines is split into named steps. Ruff has no
rule that counts a function's lines (PLR0915 counts statements, a different
measure that flags short dispatch tables and passes long literal-heavy
functions), so this small script does it. Generated stubs (``*_pb2*.py``) and
tests are not checked: a test reads top to bottom as one scenario.

    python scripts/check_function_size.py [ROOT ...]
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

LIMIT = 100
ROOTS = ("libs", "services", "cli", "scripts", "bench")


def sources(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.py")):
        parts = set(path.parts)
        if "_pb2" in path.name or "tests" in parts or ".venv" in parts:
            continue
        yield path


def too_long(path: Path) -> Iterator[tuple[int, int, str]]:
    """(line, length, name) of each function in ``path`` longer than LIMIT."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > LIMIT:
                yield node.lineno, length, node.name


def main(roots: list[str]) -> int:
    found = [
        f"{path}:{line}: {name} has {length} lines (limit {LIMIT}): split it into named steps"
        for root in roots or ROOTS
        for path in sources(Path(root))
        for line, length, name in too_long(path)
    ]
    print("\n".join(found) or f"no function is longer than {LIMIT} lines")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
