"""The Dockerfile's final stage, read instruction by instruction: the layout
that makes the image run (see deploy/README.md for why it is not built here)."""

from __future__ import annotations

import re

from .conftest import ROOT


def stages() -> list[list[tuple[str, str]]]:
    """Each stage's (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    out: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        word, _, args = line.strip().partition(" ")
        if word.upper() == "FROM":
            out.append([])
        if out:
            out[-1].append((word.upper(), args.strip()))
    return out


def args_of(stage: list[tuple[str, str]], instruction: str) -> list[str]:
    return [a for i, a in stage if i == instruction]


def test_the_venv_is_built_where_it_runs() -> None:
    build, final = stages()
    env = " ".join(args_of(build, "ENV"))
    venv = re.search(r"UV_PROJECT_ENVIRONMENT=(\S+)", env).group(1)  # type: ignore[union-attr]
    assert any("uv sync --frozen --no-dev --no-editable" in a for a in args_of(build, "RUN"))
    assert f"--from=build {venv} {venv}" in args_of(final, "COPY")
    assert f"PATH={venv}/bin:" in " ".join(args_of(final, "ENV"))


def test_final_stage_runs_as_a_numeric_non_root_user_owning_data() -> None:
    _, final = stages()
    assert args_of(final, "USER") == ["10001:10001"]
    run = " ".join(args_of(final, "RUN"))
    assert "useradd --uid 10001" in run
    assert "mkdir -p /data" in run and "chown 10001:10001 /data" in run
    assert "DRIFTLOOP_DATA_DIR=/data" in " ".join(args_of(final, "ENV"))


def test_final_stage_has_no_build_tools() -> None:
    _, final = stages()
    run = " ".join(args_of(final, "RUN"))
    for tool in ("uv", "pip", "apt-get", "gcc", "build-essential"):
        assert not re.search(rf"\b{tool}\b", run), tool
    assert not [a for a in args_of(final, "COPY") if "--from" not in a], "only the venv"


def test_health_check_and_labels() -> None:
    _, final = stages()
    (health,) = args_of(final, "HEALTHCHECK")
    assert "driftloop_cli.probe" in health
    labels = " ".join(args_of(final, "LABEL"))
    for key in ("version", "source", "revision"):
        assert f"org.opencontainers.image.{key}=" in labels
