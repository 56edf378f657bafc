"""Each kind of rollout fact becomes its own event on driftloop.rollouts, with
the fields serving, the registry and the CLI read from it."""

from __future__ import annotations

from driftloop.common.v1 import common_pb2
from driftloop.monitoring.v1 import events_pb2 as mon
from driftloop.serving.v1 import admin_service_pb2
from driftloop_monitoring.codec import converters
from driftloop_monitoring.domain.canary import Evidence
from driftloop_monitoring.domain.events import RolloutChanged, RolloutKind

META = common_pb2.EventMeta(event_id="e-1")
EVIDENCE = Evidence("accuracy", 0.91, 0.84, 300, 2700, 2.4, 0.008, 0.01, 0.0, 4.2, 3.9, 0.02)


def fact(kind: RolloutKind, **kw: object) -> RolloutChanged:
    base: dict[str, object] = dict(
        kind=kind, rollout_id="m-v2-abc", model="m", champion=1, candidate=2, mode="shadow"
    )
    return RolloutChanged(**{**base, **kw})  # type: ignore[arg-type]


def test_started_carries_both_versions_the_mode_share_and_steps():
    e = converters.rollout_to_proto(fact(RolloutKind.STARTED, share=0.1, steps=(0.1, 0.5)), META)
    assert isinstance(e, mon.RolloutStarted)
    assert (e.meta.event_id, e.rollout_id, e.model) == ("e-1", "m-v2-abc", "m")
    assert (e.champion.version, e.candidate.version) == (1, 2)
    assert e.mode == admin_service_pb2.TRAFFIC_MODE_SHADOW
    assert e.candidate_share == 0.1 and list(e.steps) == [0.1, 0.5]


def test_stepped_carries_the_candidate_share_reason_and_evidence():
    e = converters.rollout_to_proto(
        fact(RolloutKind.STEPPED, share=0.5, reason="ahead", evidence=EVIDENCE), META
    )
    assert isinstance(e, mon.RolloutStepped)
    assert (e.candidate.version, e.candidate_share, e.reason) == (2, 0.5, "ahead")
    assert e.evidence.candidate_samples == 300 and e.evidence.p_value == 0.008
    assert e.mode == admin_service_pb2.TRAFFIC_MODE_SHADOW


def test_decided_carries_the_verdict_and_evidence():
    e = converters.rollout_to_proto(
        fact(RolloutKind.DECIDED, verdict="rollback", reason="worse", evidence=EVIDENCE), META
    )
    assert isinstance(e, mon.RolloutDecided)
    assert e.verdict == mon.VERDICT_ROLLBACK and e.reason == "worse"
    assert (e.champion.version, e.candidate.version) == (1, 2)
    assert e.evidence.metric == "accuracy"


def test_completed_names_the_champion_the_registry_now_has():
    promoted = fact(RolloutKind.COMPLETED, verdict="promote", champion_now=2)
    e = converters.rollout_to_proto(promoted, META)
    assert isinstance(e, mon.RolloutCompleted)
    assert e.verdict == mon.VERDICT_PROMOTE and e.champion.version == 2
    unknown = converters.rollout_to_proto(fact(RolloutKind.COMPLETED, verdict="rollback"), META)
    assert unknown.champion.version == 1  # type: ignore[attr-defined]


def test_no_evidence_leaves_the_field_unset():
    e = converters.rollout_to_proto(fact(RolloutKind.STEPPED), META)
    assert not e.HasField("evidence")
