"""The arrows point inward: the domain and the use cases import no transport,
database, runtime or generated code."""

import ast
from pathlib import Path

import pytest

import driftloop_registry

ROOT = Path(driftloop_registry.__file__).parent
FORBIDDEN = ("grpc", "aiokafka", "faststream", "sqlite3", "psycopg", "onnx", "onnxruntime")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "domain").glob("*.py")) + sorted((ROOT / "service").glob("*.py")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_inner_layers_import_no_outer_code(path):
    bad = {
        name
        for name in _imports(path)
        if name.split(".")[0] in FORBIDDEN
        or ".v1" in name  # generated protobuf code
        or name.startswith(("driftloop_registry.adapters", "driftloop_registry.entrypoints"))
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"
