"""Every docstring example in the code runs (river's habit: an example that is
never executed drifts into fiction). One test per module that has examples."""

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Where the code lives; generated stubs hold no examples.
SOURCES = [ROOT / "libs/driftloop/src", ROOT / "cli/src", *sorted(ROOT.glob("services/*/src"))]


def _modules() -> list[str]:
    names = []
    for src in SOURCES:
        for path in sorted(src.rglob("*.py")):
            if ">>>" in path.read_text() and not path.name.endswith(("_pb2.py", "_pb2_grpc.py")):
                names.append(".".join(path.relative_to(src).with_suffix("").parts))
    return names


MODULES = _modules()


def test_the_examples_are_found():
    assert len(MODULES) >= 17  # grows as examples are written; never silently to zero


@pytest.mark.parametrize("name", MODULES)
def test_the_examples_of_a_module_run(name):
    result = doctest.testmod(importlib.import_module(name), verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
