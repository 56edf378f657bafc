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


@pytest.mark.parametrize("text", ["", "# nothing yet\n", "api_version: driftloop/v1\n"])
def test_an_empty_spec_is_refused(text):
    with pytest.raises(SpecError) as err:
        parse_spec(text, "empty.yaml")
    assert "the spec is empty" in str(err.value)


def test_not_yaml_names_the_file_not_a_unicode_string():
    with pytest.raises(SpecError) as err:
        parse_spec("streams:\n  - name: x\n   bad: [\n", "my-spec.yaml")
    assert str(err.value).startswith("my-spec.yaml: ")
    assert "<unicode string>" not in str(err.value)
    assert err.value.problems[0][1] == 3


def test_every_problem_is_listed_at_once_with_the_bad_value():
    bad = (
        MINIMAL.replace("type: float, min: 0", "type: double, min: zero")
        .replace("stream: tx\n", "stream: tz\n")
        .replace("    feature_view: tx_view", "    feature_view: tx_view\n    task: clasification")
    )
    with pytest.raises(SpecError) as err:
        parse_spec(bad, "bad.yaml")
    problems = {path: msg for path, _, msg in err.value.problems}
    assert "(got 'double')" in problems["streams[0].fields[1].type"]
    assert "(got 'zero')" in problems["streams[0].fields[1].min"]
    assert "(got 'clasification')" in problems["models[0].task"]
    # The reference error shows beside the schema errors.
    assert problems["feature_views[0].stream"] == "unknown stream 'tz'"


def test_a_reference_to_a_declared_but_invalid_item_is_not_called_unknown():
    bad = MINIMAL.replace("type: float, min: 0", "type: double, min: 0")
    with pytest.raises(SpecError) as err:
        parse_spec(bad, "bad.yaml")
    assert [p for p, _, _ in err.value.problems] == ["streams[0].fields[1].type"]
