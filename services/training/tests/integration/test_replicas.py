"""Two training replicas (real processes, one lease database, the real broker,
a fake registry): the first model is trained once, not twice; a drift run is
single-flight, and when the replica running it is killed -9, the other adopts
the run and completes it — one candidate for the drift."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

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

from driftloop.common.v1.common_pb2 import ModelRef
from driftloop.monitoring.v1.events_pb2 import DriftDetected, DriftKind
from driftloop.platform import topics
from driftloop.platform.envelope import new_meta
from driftloop.platform.testing import (
    ServiceProcess,
    end_offsets,
    free_port,
    kafka_env,
    read_from,
    unique,
    wait_for,
)
from driftloop.training.v1 import run_pb2

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def holder_of(data_dir, model: str) -> str:
    """The replica id holding the model's training lease (holders are
    ``<replica id>-<pid>-<nonce>``), or "" when none holds it."""
    with sqlite3.connect(data_dir / "leases.db") as db:
        row = db.execute(
            "SELECT holder, data FROM leases WHERE scope = 'training' AND key = ?", (model,)
        ).fetchone()
    if row is None or json.loads(row[1]).get("state") != "running":
        return ""
    return row[0].split("-")[0]


async def test_single_flight_and_a_killed_replicas_run_retried_by_the_other(
    kafka, fake_registry, tmp_path
):
    fake, registry_address = fake_registry
    model, view, group = unique("m"), unique("v"), unique("training")
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(
        make_spec(model_yaml(model, view=view, gate_margin=0.5), view).model_dump_json()
    )
    data_dir = tmp_path / "data"
    start = await end_offsets(kafka, topics.TRAINING.name)
    ports = [free_port(), free_port()]
    replicas = [
        ServiceProcess(
            "driftloop_training",
            {
                **kafka_env(kafka),
                "DRIFTLOOP_GRPC_PORT": str(ports[i]),
                "DRIFTLOOP_METRICS_ENABLED": "false",
                "DRIFTLOOP_DATA_DIR": str(data_dir),
                "DRIFTLOOP_REPLICA_ID": str(i),
                "DRIFTLOOP_REPLICA_LEASE_TTL_S": "20",
                "DRIFTLOOP_SPEC": str(spec_path),
                "DRIFTLOOP_SERVICE_ADDRESSES": json.dumps({"registry": registry_address}),
                "DRIFTLOOP_TRAINING_GROUP": group,
                "DRIFTLOOP_TRAINING_POLL_S": "0.2",
                "DRIFTLOOP_LOG_FORMAT": "json",
            },
            tmp_path / f"training-{i}.log",
        ).start()
        for i in range(2)
    ]
    try:
        for proc, port in zip(replicas, ports, strict=True):
            proc.wait_healthy(f"127.0.0.1:{port}")
        X, y, times = synthetic(240)
        labels, vectors = labelled_rows(model, view, X, y, times)
        await publish(kafka, [(e, e.entity_id) for e in vectors])
        await publish(kafka, [(e, e.record_id) for e in labels])
        await wait_for(lambda: fake.aliases.get((model, "champion")) == 1, timeout_s=120)

        # A drift whose window (from the change on) has no rows yet: the run
        # waits for them, holding the model, on whichever replica got the event.
        drift = DriftDetected(
            meta=new_meta("monitoring", event_id="drift-a"),
            drift_id="drift-a",
            model=ModelRef(name=model, version=1),
            kind=DriftKind.DRIFT_KIND_CONCEPT,
            detector="adwin",
        )
        change = T0 + timedelta(seconds=1000)
        drift.change_started_at.FromDatetime(change)
        await publish(kafka, [(drift, model)])
        await wait_for(lambda: holder_of(data_dir, model) != "", timeout_s=60)
        victim = int(holder_of(data_dir, model))
        replicas[victim].kill()

        X2, y2, _ = synthetic(150, seed=1, flip=True)
        later = [change + timedelta(seconds=i) for i in range(150)]
        labels2, vectors2 = labelled_rows(model, view, X2, y2, later, first=240)
        await publish(kafka, [(e, e.entity_id) for e in vectors2])
        await publish(kafka, [(e, e.record_id) for e in labels2])
        await wait_for(lambda: fake.aliases.get((model, "candidate")) == 2, timeout_s=120)

        records = await read_from(
            kafka,
            topics.TRAINING.name,
            start,
            count=7,  # initial: requested, started, completed; drift: requested twice, ...
            idle_s=3,
            predicate=lambda r: r.key == model.encode(),
        )
        events = [e for e, _ in map(decode, records)]
        requested = [e for e in events if e.DESCRIPTOR.name == "TrainingRequested"]
        completed = [e for e in events if e.DESCRIPTOR.name == "TrainingCompleted"]
        triggers = sorted(run_pb2.Trigger.Name(e.trigger) for e in requested)
        # One initial run (not one per replica); the drift run and its retry.
        assert triggers == ["TRIGGER_DRIFT", "TRIGGER_DRIFT", "TRIGGER_INITIAL"], triggers
        assert [e.drift_id for e in completed] == ["", "drift-a"]
        assert {v for (m, v) in fake.versions if m == model} == {1, 2}
    finally:
        for proc in replicas:
            if proc.proc and proc.proc.poll() is None:
                proc.terminate()
