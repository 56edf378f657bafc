"""The demo spec `driftloop up` runs with: its views compile and compute."""

from __future__ import annotations

from pathlib import Path

from driftloop.platform.spec import load_spec
from driftloop_feature.domain.compute import ViewState
from driftloop_feature.domain.model import Record, Vector
from driftloop_feature.domain.views import compile_spec, view_width

DEMO = Path(__file__).resolve().parents[4] / "cli/src/driftloop_cli/specs/demo.yaml"


def test_demo_views_compute_a_vector_of_their_width() -> None:
    spec = load_spec(DEMO)
    for view in compile_spec(spec):
        stream = spec.stream(view.spec.stream)
        assert stream is not None
        fields = {}
        for f in stream.fields:
            if f.type == "categorical":
                fields[f.name] = f.categories[0]
            elif f.type == "string":
                fields[f.name] = "c1"
            elif f.type != "timestamp":
                fields[f.name] = max(1.0, f.min or 1.0)
        out = ViewState(view).apply(Record("r1", stream.name, "c1", 1_700_000_000 * 10**9, fields))
        assert isinstance(out, Vector), out
        assert len(out.values) == view.width == view_width(view.spec, stream)
