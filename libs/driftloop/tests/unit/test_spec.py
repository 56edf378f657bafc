from pathlib import Path

import pytest

from driftloop.platform.spec import SpecError, load_spec, parse_spec

DEMO = Path(__file__).parents[4] / "cli" / "src" / "driftloop_cli" / "specs" / "demo.yaml"

MINIMAL = """\
api_version: driftloop/v1
streams:
  - name: tx
    entity_field: user
    fields:
      - {name: user, type: string}
      - {name: amount, type: float, min: 0}
feature_views:
  - name: tx_view
    stream: tx
    features:
      - {name: amount, kind: passthrough, field: amount}
models:
  - name: fraud
    feature_view: tx_view
"""


def test_demo_spec_is_valid():
    spec = load_spec(DEMO)
    assert spec.model("loan-approval").feature_view == "loan_features"


def test_minimal_spec_gets_documented_defaults():
    spec = parse_spec(MINIMAL)
    model = spec.model("fraud")
    assert model.trainer.builtin == "logistic_regression"
    assert model.rollout.steps == (0.1, 0.5, 1.0)
    assert spec.stream("tx").id_field == "id"


def test_error_names_path_and_line():
    bad = MINIMAL.replace("type: float, min: 0", "type: double, min: 0")
    with pytest.raises(SpecError) as err:
        parse_spec(bad, "bad.yaml")
    ((path, line, msg),) = err.value.problems
    assert path == "streams[0].fields[1].type"
    assert line == 7
    assert "float" in msg


def test_unknown_reference_names_path_and_line():
    bad = MINIMAL.replace("stream: tx\n", "stream: tz\n")
    with pytest.raises(SpecError) as err:
        parse_spec(bad)
    assert err.value.problems == [("feature_views[0].stream", 10, "unknown stream 'tz'")]


def test_typo_in_a_key_is_rejected_not_ignored():
    bad = MINIMAL.replace("    feature_view: tx_view", "    feature_veiw: tx_view")
    with pytest.raises(SpecError) as err:
        parse_spec(bad)
    paths = [p for p, _, _ in err.value.problems]
    assert "models[0].feature_veiw" in paths
    assert "models[0].feature_view" in paths


def test_not_yaml_points_at_the_line():
    with pytest.raises(SpecError) as err:
        parse_spec("streams: [\n  - {name: x\n")
    assert err.value.problems[0][1] is not None
