"""`driftloop apply` on the specs a person gets wrong."""

import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "driftloop_cli", "apply"]
SPEC = """\
streams:
  - name: tx
    entity_field: user
    fields:
      - {name: user, type: string}
      - {name: amount, type: double}
feature_views:
  - name: tx_view
    stream: tz
    features:
      - {name: amount, kind: passthrough, field: amount}
"""


def _apply(path):
    return subprocess.run([*CLI, str(path)], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["the spec is empty"]),
        ("streams: [\n  - {name: x\n", ["not YAML", "(line 2)"]),
        (SPEC, ["(got 'double')", "unknown stream 'tz'", "2 problem(s)"]),
    ],
)
def test_a_bad_spec_is_refused_naming_the_file_and_every_problem(tmp_path, text, expected):
    path = tmp_path / "my-spec.yaml"
    path.write_text(text)
    done = _apply(path)
    assert done.returncode == 1
    assert done.stderr.startswith(f"{path}: ")
    for words in expected:
        assert words in done.stderr
    assert "Traceback" not in done.stderr and "<unicode string>" not in done.stderr


def test_a_missing_file_is_one_line(tmp_path):
    done = _apply(tmp_path / "nope.yaml")
    assert done.returncode == 2
    assert done.stderr.strip() == f"cannot read {tmp_path / 'nope.yaml'}: No such file or directory"


def test_a_valid_spec_is_summed_up_on_stdout(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(SPEC.replace("double", "float").replace("stream: tz", "stream: tx"))
    done = _apply(path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{path} is valid: 1 stream(s), 1 feature view(s), 0 model(s)"
