"""The training service as a real process on the real broker, with a fake
registry served from the test: the dataset fills from the features and labels
topics, the first model becomes champion, a burst of drift events makes one
run and one candidate, and bad input is dead-lettered."""

from __future__ import annotations

import json
from datetime import timedelta

import grpc
import pytest
from training_fakes import (
    T0,
    decode,
    labelled_rows,
    make_spec,
    model_yaml,
    publish,
    synthetic,
)

from driftloop.bus.v1.deadletter_pb2 import EventDeadLettered
from driftloop.common.v1.common_pb2 import ModelRef
from driftloop.feature.v1.events_pb2 import FeatureVectorComputed
from driftloop.ingestion.v1.events_pb2 import LabelReceived
from driftloop.monitoring.v1.events_pb2 import DriftDetected, DriftKind
from driftloop.platform import topics
from driftloop.platform.envelope import new_meta
from driftloop.platform.grpc_client import channel
from driftloop.platform.grpc_server import READY
from driftloop.platform.testing import (
    ServiceProcess,
    caught_up,
    end_offsets,
    free_port,
    kafka_env,
    read_from,
    unique,
    wait_for,
)
from driftloop.training.v1 import run_pb2, training_service_pb2, training_service_pb2_grpc

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


async def test_dataset_initial_champion_and_debounced_drift(kafka, fake_registry, tmp_path):
    fake, registry_address = fake_registry
    model, view = unique("m"), unique("v")
    spec = make_spec(model_yaml(model, view=view, gate_margin=0.5, cooldown_s=300), view)
    spec_text = spec.model_dump_json()
    spec_path = tmp_path / "spec.json"  # YAML is a superset of JSON
    spec_path.write_text(spec_text)
    port = free_port()
    group = unique("training")
    watched = (
        topics.TRAINING.name,
        topics.DEADLETTER.name,
        topics.LABELS.name,
        topics.FEATURES.name,
    )
    start = {t: await end_offsets(kafka, t) for t in watched}
    proc = ServiceProcess(
        "driftloop_training",
        {
            **kafka_env(kafka),
            "DRIFTLOOP_GRPC_PORT": str(port),
            "DRIFTLOOP_METRICS_ENABLED": "false",
            "DRIFTLOOP_DATA_DIR": str(tmp_path / "data"),
            "DRIFTLOOP_SPEC": str(spec_path),
            "DRIFTLOOP_SERVICE_ADDRESSES": json.dumps({"registry": registry_address}),
            "DRIFTLOOP_TRAINING_GROUP": group,
            "DRIFTLOOP_TRAINING_POLL_S": "0.2",
            "DRIFTLOOP_LOG_FORMAT": "json",
        },
        tmp_path / "training.log",
    ).start()
    try:
        # Ready: interrupted runs settled and the broker answers.
        proc.wait_healthy(f"127.0.0.1:{port}", service=READY)
        # 240 records: the first 120 labelled before their vectors, the rest after.
        n = 240
        X, y, times = synthetic(n)
        labels, vectors = labelled_rows(model, view, X, y, times)
        bad_label = LabelReceived(meta=new_meta("test"), stream="s", record_id=labels[0].record_id)
        bad_vector = FeatureVectorComputed(  # no event_time
            meta=new_meta("test"), record_id=f"{model}-bad", view=view, view_version=1
        )
        await publish(kafka, [(e, e.record_id) for e in labels[:120]])
        await publish(kafka, [(e, e.entity_id) for e in [*vectors, bad_vector]])
        await publish(kafka, [(e, e.record_id) for e in [*labels[120:], bad_label]])

        await wait_for(lambda: fake.aliases.get((model, "champion")) == 1, timeout_s=120)
        # Every label and vector is in the dataset before the drift: the drift
        # run's window must hold them all.
        for topic in (topics.LABELS.name, topics.FEATURES.name):
            ends = await end_offsets(kafka, topic)
            written = {tp: end for tp, end in ends.items() if end > start[topic].get(tp, 0)}
            await wait_for(lambda t=topic, w=written: caught_up(kafka, f"{group}.{t}", w), 60)

        # 5 deliveries of one drift event, then 2 other drift ids within the cooldown.
        def drift(drift_id: str) -> DriftDetected:
            event = DriftDetected(
                meta=new_meta("monitoring", event_id=drift_id),
                drift_id=drift_id,
                model=ModelRef(name=model, version=1),
                kind=DriftKind.DRIFT_KIND_CONCEPT,
                detector="adwin",
            )
            event.change_started_at.FromDatetime(T0 + timedelta(seconds=100))
            return event

        burst = [drift("drift-a")] * 5 + [drift("drift-b"), drift("drift-c")]
        await publish(kafka, [(e, model) for e in burst])
        await wait_for(lambda: fake.aliases.get((model, "candidate")) == 2, timeout_s=120)

        records = await read_from(
            kafka,
            topics.TRAINING.name,
            start[topics.TRAINING.name],
            count=6,  # initial and drift run: requested, started, completed each
            idle_s=3,
            predicate=lambda r: r.key == model.encode(),
        )
        events = [decode(r) for r in records]
        kinds = [e.DESCRIPTOR.name for e, _ in events]
        assert kinds.count("TrainingRequested") == 2, kinds
        assert kinds.count("TrainingCompleted") == 2 and "TrainingFailed" not in kinds, kinds
        requested = [(e, h) for e, h in events if e.DESCRIPTOR.name == "TrainingRequested"]
        initial, drifted = requested
        assert initial[0].trigger == run_pb2.TRIGGER_INITIAL
        assert drifted[0].trigger == run_pb2.TRIGGER_DRIFT and drifted[0].drift_id == "drift-a"
        assert drifted[1]["ce_causationid"] == "drift-a"
        assert drifted[1]["ce_correlationid"] == "drift-a"
        completed = [e for e, _ in events if e.DESCRIPTOR.name == "TrainingCompleted"]
        assert completed[1].drift_id == "drift-a" and completed[1].gate_passed
        assert completed[1].version == 2 and completed[1].champion_version == 1

        # Count in == out: the drift run's window holds every record from the change on.
        async with channel(f"127.0.0.1:{port}") as ch:
            stub = training_service_pb2_grpc.TrainingServiceStub(ch)
            runs = await stub.ListRuns(training_service_pb2.ListRunsRequest(model=model))
            assert len(runs.runs) == 2
            first = await stub.GetRun(training_service_pb2.GetRunRequest(run_id=initial[0].run_id))
            assert 100 <= first.snapshot.rows <= n  # started once min_rows were labelled
            drift_run = runs.runs[0]
            assert drift_run.snapshot.rows == n - 100  # since change_started_at
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.StartTraining(training_service_pb2.StartTrainingRequest(model="nope"))
            assert err.value.code() == grpc.StatusCode.NOT_FOUND

        # Only our two bad events: the service reads its topics from the start,
        # so bad events other tests left there are dead-lettered by it too.
        ours = {bad_label.SerializeToString(), bad_vector.SerializeToString()}
        dead = await read_from(
            kafka,
            topics.DEADLETTER.name,
            start[topics.DEADLETTER.name],
            count=2,
            idle_s=1,
            predicate=lambda r: EventDeadLettered.FromString(r.value).original in ours,
        )
        # At least once: a redelivered bad event repeats its dead letter with
        # the same event id; count each once.
        letters = {
            e.meta.event_id: e for e in map(EventDeadLettered.FromString, (r.value for r in dead))
        }
        reasons = sorted(e.reason for e in letters.values())
        assert len(reasons) == 2, reasons
        assert "event_time is missing" in reasons[0] and "label has no value" in reasons[1]
    finally:
        code = proc.terminate()
    assert code == 0, proc.tail()
