"""The vetting checks in-process (the service runs them in a child process)."""

from pathlib import Path

import pytest

from driftloop_registry.adapters.vet_worker import Refused, vet


def _file(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "artifact.bin"
    path.write_bytes(data)
    return path


def test_signature_is_read_from_the_model(tmp_path, models):
    sig = vet(_file(tmp_path, models.classifier(width=3)), feature_width=3)
    assert sig == {
        "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 3]}],
        "outputs": [
            {"name": "label", "datatype": "INT64", "shape": [-1]},
            {"name": "probabilities", "datatype": "FP32", "shape": [-1, 2]},
        ],
    }


@pytest.mark.parametrize(
    "case",
    [
        "truncated_onnx",
        "text",
        "external_data_parent",
        "external_data_absolute",
        "external_data_sibling",
        "wrong_width",
        "dynamic_width",
        "string_input",
    ],
)
def test_refusals_say_why(tmp_path, models, case):
    data, width, phrase = models.bad[case]
    with pytest.raises(Refused) as err:
        vet(_file(tmp_path, data), feature_width=width)
    assert phrase.lower() in str(err.value).lower()
