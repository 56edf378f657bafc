"""The CLI starts fast: importing it, and asking any command but `demo` for
its help, loads none of the heavy libraries (they cost seconds of CPU)."""

import json
import subprocess
import sys

HEAVY = (
    "river",
    "sklearn",
    "scipy",
    "numpy",
    "onnx",
    "onnxruntime",
    "matplotlib",
    "faststream",
    "aiokafka",
    "grpc",
    "pydantic_settings",
)

PROBE = """
import json, sys
from typer.testing import CliRunner
from driftloop_cli.app import app
runner = CliRunner()
for argv in %r:
    result = runner.invoke(app, [*argv, "--help"])
    assert result.exit_code == 0, (argv, result.output)
print(json.dumps(sorted(m for m in %r if m in sys.modules)))
"""

COMMANDS = [
    [],
    ["up"],
    ["down"],
    ["status"],
    ["apply"],
    ["demo"],
    ["events"],
    ["events", "tail"],
    ["events", "topics"],
    ["models"],
    ["models", "list"],
    ["models", "show"],
    ["models", "history"],
    ["topics"],
    ["topics", "ensure"],
]


def test_the_cli_and_every_help_text_load_no_heavy_library():
    done = subprocess.run(
        [sys.executable, "-c", PROBE % (COMMANDS, HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []


def test_the_probe_would_see_a_heavy_import():
    # The budget test can fail: a module that imports numpy is seen.
    probe = "import json, sys, driftloop_cli.demo.client; print(json.dumps('numpy' in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert json.loads(done.stdout) is True, done.stderr


def test_up_starts_the_platform_without_faststream():
    # `driftloop up` needs aiokafka (topics, the cluster id) and grpc (health),
    # not faststream (~0.5 s of CPU before the first service is spawned).
    probe = (
        "import json, sys, driftloop_cli.commands.up, driftloop_cli.supervisor; "
        "print(json.dumps(sorted(m for m in ('faststream', 'river', 'sklearn', 'scipy', "
        "'numpy') if m in sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []
