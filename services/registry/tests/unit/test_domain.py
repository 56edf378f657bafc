"""Pure rules: names, metadata validation, filters, rollout alias plans, and
recognising non-ONNX formats by content."""

import doctest
import pickle
from datetime import UTC, datetime

import pytest

from driftloop.platform.errors import InvalidArgument
from driftloop_registry.domain import artifact, rollout
from driftloop_registry.domain.artifact import foreign_format
from driftloop_registry.domain.model import (
    AliasWrite,
    MetricFilter,
    ModelVersion,
    Signature,
    VersionDraft,
    VersionFilter,
    check_alias_name,
    check_model_name,
)
from driftloop_registry.domain.rollout import RolloutDecision, alias_writes


@pytest.mark.parametrize("module", [artifact, rollout])
def test_docstring_examples_run(module):
    failed, _ = doctest.testmod(module)
    assert failed == 0


@pytest.mark.parametrize("name", ["loan-approval", "m", "a.b_c-1", "X" * 128])
def test_valid_model_names(name):
    check_model_name(name)


@pytest.mark.parametrize("name", ["", "-x", "a b", "../etc", "X" * 129, "é"])
def test_invalid_model_names_name_the_field(name):
    with pytest.raises(InvalidArgument, match="model"):
        check_model_name(name)


@pytest.mark.parametrize("alias", ["", "1", "champion!", "a/b"])
def test_invalid_aliases(alias):
    with pytest.raises(InvalidArgument, match="alias"):
        check_alias_name(alias)


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        (VersionDraft("m", metrics={"auc": float("inf")}), "metrics"),
        (VersionDraft("m", metrics={"": 1.0}), "metrics"),
        (VersionDraft("m", tags={"": "x"}), "tags"),
        (VersionDraft("m", parent_version=-1), "parent_version"),
        (VersionDraft("m", feature_width=-2), "feature_width"),
        (VersionDraft("m", expected_sha256="ABC"), "expected_sha256"),
    ],
)
def test_draft_validation_names_the_bad_field(draft, field):
    with pytest.raises(InvalidArgument, match=field):
        draft.validate()


def _version(**kw) -> ModelVersion:
    base = dict(
        model="m",
        version=1,
        artifact_sha256="0" * 64,
        artifact_size=1,
        signature=Signature(),
        created_at=datetime.now(UTC),
    )
    return ModelVersion(**{**base, **kw})


def test_version_filter_needs_every_condition():
    v = _version(metrics={"auc": 0.8}, tags={"team": "a"}, aliases=("champion",))
    assert VersionFilter().matches(v)
    assert VersionFilter(alias="champion", tags={"team": "a"}).matches(v)
    assert not VersionFilter(alias="candidate").matches(v)
    assert not VersionFilter(tags={"team": "b"}).matches(v)
    assert VersionFilter(metrics=(MetricFilter("auc", ">=", 0.8),)).matches(v)
    assert not VersionFilter(metrics=(MetricFilter("auc", "<", 0.8),)).matches(v)
    assert not VersionFilter(metrics=(MetricFilter("rmse", "<", 1),)).matches(v)
    with pytest.raises(InvalidArgument, match="op"):
        MetricFilter("auc", "!=", 1)


def test_promote_without_a_previous_champion_archives_nothing():
    d = RolloutDecision("m", True, 0, 1, "first", "e")
    assert alias_writes(d, {"candidate": 1}) == [
        AliasWrite("champion", 1, expected=0),
        AliasWrite("candidate", 0, expected=1),
    ]


def test_rollback_drops_the_candidate_only_if_it_is_still_the_decided_one():
    d = RolloutDecision("m", False, 1, 2, "worse", "e")
    assert alias_writes(d, {"champion": 1, "candidate": 2}) == [
        AliasWrite("candidate", 0, expected=2)
    ]
    assert alias_writes(d, {"champion": 1, "candidate": 3}) == []


@pytest.mark.parametrize("protocol", range(0, pickle.HIGHEST_PROTOCOL + 1))
def test_every_pickle_protocol_is_recognised(protocol):
    data = pickle.dumps({"weights": [1.0, 2.0]}, protocol=protocol)
    assert foreign_format(data[:512]) is not None
