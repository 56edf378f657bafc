"""The Kubernetes overlays rendered once per session with kustomize (installed
into .tools/bin by `make deploy-tools`, or kubectl's built-in one)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir() if p.is_dir())


def _render_command() -> list[str]:
    local = ROOT / ".tools" / "bin" / "kustomize"
    if local.exists():
        return [str(local), "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    pytest.fail("no kustomize: run `make deploy-tools` (installs it into .tools/bin)")


def render(path: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        [*_render_command(), str(path)], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, f"kustomize build {path} failed:\n{out.stderr}"
    return [d for d in yaml.safe_load_all(out.stdout) if d]


@pytest.fixture(scope="session", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    """(overlay name, its rendered objects)."""
    return request.param, render(K8S / "overlays" / request.param)
