"""View compilation: value names, widths, definition errors."""

from __future__ import annotations

import doctest

import pytest

from driftloop.platform.spec import parse_spec
from driftloop_feature.domain import model, views
from driftloop_feature.domain.views import ViewDefinitionError, compile_spec, view_width

from ..helpers import spec


def test_value_names_expand_one_hot_and_hashed_in_declared_order() -> None:
    s = spec()
    names = views.value_names(s.feature_views[0], s.streams[0])
    assert names[:9] == ("x", "xs", "c=a", "c=b", "c=c", "ch#0", "ch#1", "ch#2", "ch#3")
    assert names[-1] == "x_per_y"
    assert view_width(s.feature_views[0], s.streams[0]) == len(names) == 17


def test_one_hot_of_a_field_without_categories_is_a_definition_error() -> None:
    s = parse_spec(
        """
streams:
  - {name: s, entity_field: e, fields: [{name: e, type: string}, {name: k, type: string}]}
feature_views:
  - {name: v, stream: s, features: [{name: k, kind: one_hot, field: k}]}
"""
    )
    with pytest.raises(ViewDefinitionError, match="one_hot needs `categories`"):
        compile_spec(s)


def test_fingerprint_changes_with_the_definition() -> None:
    a = compile_spec(spec(lateness=5))[0]
    b = compile_spec(spec(lateness=6))[0]
    assert a.fingerprint != b.fingerprint
    assert a.fingerprint == compile_spec(spec(lateness=5))[0].fingerprint


@pytest.mark.parametrize("module", [views, model])
def test_docstring_examples_run(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]
