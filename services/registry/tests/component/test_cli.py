"""`driftloop models ...` against a real registry servicer."""

import asyncio
import json
import re

import pytest
from typer.testing import CliRunner

from driftloop_cli.models import models_app

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


async def _cli(harness, *args: str, env: dict[str, str] | None = None):
    runner = CliRunner()
    argv = [*args, "--address", harness.address]
    env = {"COLUMNS": "250", **(env or {})}
    return await asyncio.to_thread(runner.invoke, models_app, argv, env=env)


def _json(result):
    # The in-process server's log lines land in the same captured stdout.
    lines = [ln for ln in result.output.splitlines() if not re.match(r"\d{4}-\d\d-\d\d ", ln)]
    return json.loads("\n".join(lines))


async def test_register_promote_rollback_and_history_from_the_cli(harness, models, tmp_path):
    for seed, name in ((0.1, "a.onnx"), (0.2, "b.onnx")):
        (tmp_path / name).write_bytes(models.linear(seed=seed))
    first = await _cli(
        harness,
        "register",
        str(tmp_path / "a.onnx"),
        "--model",
        "m",
        "--metric",
        "auc=0.9",
        "--tag",
        "team=risk",
        "--feature-width",
        "4",
        "--json",
    )
    assert first.exit_code == 0, first.output
    assert _json(first)["version"] == "1"  # int64 is a string in proto JSON
    second = await _cli(harness, "register", str(tmp_path / "b.onnx"), "--model", "m")
    assert second.exit_code == 0 and "version 2" in second.output

    assert (await _cli(harness, "promote", "m", "1")).exit_code == 0
    promoted = await _cli(harness, "promote", "m", "2", "--reason", "better auc")
    assert promoted.exit_code == 0 and "better auc" in promoted.output
    listed = _json(await _cli(harness, "list", "--json"))
    assert listed == [
        {"name": "m", "latest_version": "2", "aliases": {"champion": "2", "archived": "1"}}
    ]
    back = await _cli(harness, "rollback", "m")
    assert back.exit_code == 0, back.output
    shown = _json(await _cli(harness, "show", "m", "--alias", "champion", "--json"))
    assert shown[0]["version"] == "1" and shown[0]["metrics"] == {"auc": 0.9}

    history = _json(await _cli(harness, "history", "m", "--json"))["entries"]
    assert [(e["alias"], e.get("version")) for e in history] == [
        ("champion", "1"),
        ("champion", "2"),
        ("archived", "1"),
        ("champion", "1"),
        ("archived", "2"),
    ]
    assert all(e["caused_by_event_id"] for e in history)
    table = await _cli(harness, "history", "m")
    assert table.exit_code == 0 and "rolled back with the CLI" in table.output


async def test_cli_errors_are_clear_and_exit_non_zero(harness, models, tmp_path):
    bad = tmp_path / "model.onnx"
    bad.write_bytes(models.bad["pickle"][0])
    refused = await _cli(harness, "register", str(bad), "--model", "m")
    assert refused.exit_code == 1
    assert "INVALID_ARGUMENT" in refused.output and "pickle" in refused.output
    missing = await _cli(harness, "show", "m", "--version", "3")
    assert missing.exit_code == 1 and "NOT_FOUND" in missing.output
    assert (await _cli(harness, "rollback", "nope")).exit_code == 1


async def test_cli_writes_send_the_configured_token(auth_harness, models, tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(models.linear())
    denied = await _cli(auth_harness, "register", str(path), "--model", "m")
    assert denied.exit_code == 1 and "UNAUTHENTICATED" in denied.output
    token = {"DRIFTLOOP_GRPC_AUTH_TOKEN": "s3cret"}
    allowed = await _cli(auth_harness, "register", str(path), "--model", "m", env=token)
    assert allowed.exit_code == 0, allowed.output
    assert (await _cli(auth_harness, "promote", "m", "1", env=token)).exit_code == 0
