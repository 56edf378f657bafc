"""Routing, the serving state and prediction rows, without any transport."""

from __future__ import annotations

import numpy as np
import pytest

from driftloop_serving.domain.models import Loaded, ServedModel, VersionInfo
from driftloop_serving.domain.predictions import Scored, columns
from driftloop_serving.domain.routing import Mode, Role, TrafficSplit, bucket
from driftloop_serving.domain.tensors import TensorSpec


class FakeRunner:
    inputs = [TensorSpec("input", "FP32", (-1, 3))]
    outputs = [TensorSpec("variable", "FP32", (-1, 1))]

    def __init__(self) -> None:
        self.closed = False

    def run(self, feeds):
        return [feeds["input"].sum(axis=1, keepdims=True)]

    def close(self) -> None:
        self.closed = True


def loaded(version: int) -> Loaded:
    return Loaded(VersionInfo("m", version), FakeRunner())


def test_bucket_is_stable_and_uniform():
    assert bucket("abc") == bucket("abc")
    values = [bucket(f"k{i}") for i in range(20_000)]
    assert all(0 <= v < 1 for v in values)
    assert abs(np.mean(values) - 0.5) < 0.01


def test_split_rejects_shares_outside_unit_interval():
    with pytest.raises(ValueError):
        TrafficSplit(share=1.5)


def test_pick_canary_shadow_and_no_candidate():
    served = ServedModel("m", default_split=TrafficSplit(share=0.0))
    served.set_champion(loaded(1))
    assert served.pick("x")[1] is Role.CHAMPION
    served.set_candidate(loaded(2))
    assert served.pick("x")[1] is Role.CHAMPION  # default share 0
    served.start_rollout("r", 1.0, Mode.CANARY)
    assert served.pick("x")[:2] == (served.candidate, Role.CANDIDATE)
    served.start_rollout("r", 0.3, Mode.SHADOW)
    chosen, role, mirror = served.pick("x")
    assert (chosen, role, mirror) == (served.champion, Role.CHAMPION, served.candidate)


def test_switch_retires_old_version_after_inflight():
    served = ServedModel("m")
    v1, v2 = loaded(1), loaded(2)
    served.set_champion(v1)
    v1.acquire()
    served.set_champion(v2)
    assert v1.retired and not v1.runner.closed
    v1.release()
    assert v1.runner.closed and not v2.runner.closed


def test_promotion_keeps_the_loaded_candidate_and_ends_the_rollout():
    served = ServedModel("m")
    v1, v2 = loaded(1), loaded(2)
    served.set_champion(v1)
    served.set_candidate(v2)
    served.start_rollout("r", 0.5, Mode.CANARY)
    served.set_champion(v2)
    assert served.champion is v2 and served.candidate is None and served.rollout is None
    assert v1.runner.closed and not v2.runner.closed


def test_rows_of_a_batch_and_of_regression():
    scored = Scored(
        "grpc",
        "q",
        "q",
        "e",
        VersionInfo("m", 1),
        Role.CHAMPION,
        (),
        np.array([[1, 2, 3], [4, 5, 6]], np.float32),
        {"variable": np.array([[6.0], [15.0]], np.float32)},
        1.0,
        0.0,
    )
    out = columns(scored)
    assert out.count == 2 and out.predictions == [6.0, 15.0]
    assert out.features == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0] and out.probabilities == []


def test_rows_of_a_classifier():
    scored = Scored(
        "stream",
        "ev",
        "rec",
        "e",
        VersionInfo("m", 1),
        Role.CANDIDATE,
        ("a", "b"),
        np.array([[1, 2]], np.float32),
        {"label": np.array([1]), "probabilities": np.array([[0.25, 0.75]], np.float32)},
        1.0,
        0.0,
    )
    out = columns(scored)
    assert (out.count, out.predictions, out.probabilities) == (1, [1.0], [0.25, 0.75])


def test_outputs_that_disagree_on_rows_are_refused():
    scored = Scored(
        "grpc",
        "q",
        "q",
        "",
        VersionInfo("m", 1),
        Role.CHAMPION,
        (),
        np.zeros((2, 3), np.float32),
        {"label": np.array([1, 0]), "probabilities": np.zeros(3, np.float32)},
        1.0,
        0.0,
    )
    with pytest.raises(ValueError):
        columns(scored)


def test_tensor_spec_names_the_tensor():
    from driftloop.platform.errors import InvalidArgument

    spec = TensorSpec("input", "FP32", (-1, 3))
    spec.check("FP32", (7, 3))
    with pytest.raises(InvalidArgument, match=r"'input'.*shape"):
        spec.check("FP32", (7, 4))
    with pytest.raises(InvalidArgument, match=r"'input'.*datatype"):
        spec.check("FP64", (7, 3))
