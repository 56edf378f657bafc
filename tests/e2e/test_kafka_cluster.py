"""The closed loop on a three-broker Apache Kafka cluster under faults.

Three KRaft nodes on loopback (each broker and controller; replication
factor 3, min.insync.replicas 2). While the demo's records, labels and
predictions flow: kill -9 the broker that leads the most partitions, later
start it again, then kill -9 the active controller. No driftloop service is
restarted by hand. The counts go to ``$DRIFTLOOP_CLUSTER_REPORT`` (default
``var/kafka-cluster-faults.json``)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families

from driftloop.feature.v1.events_pb2 import FeatureVectorComputed
from driftloop.ingestion.v1.events_pb2 import LabelReceived, RecordDeadLettered, RecordValidated
from driftloop.platform import topics
from driftloop.platform.apache_kafka import (
    ApacheKafkaBroker,
    fetch_jars,
    java_binary,
    new_cluster_id,
)
from driftloop.platform.bus import aiokafka_options
from driftloop.platform.ports import SERVICES
from driftloop.platform.settings import KafkaSettings, ServiceSettings
from driftloop.platform.testing import free_port, free_port_offset, read_from, wait_for
from driftloop.serving.v1.events_pb2 import PredictionMade
from driftloop_cli.demo.run import DemoConfig, run_demo, summary
from driftloop_cli.supervisor import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.kafka_cluster, pytest.mark.timeout(1800)]

SPEC = Path(__file__).parent / "loop-spec.yaml"
REPLICATED = {
    "offsets.topic.replication.factor": "3",
    "transaction.state.log.replication.factor": "3",
    "transaction.state.log.min.isr": "2",
    "share.coordinator.state.topic.replication.factor": "3",
    "share.coordinator.state.topic.min.isr": "2",
    "default.replication.factor": "3",
    "min.insync.replicas": "2",
    # Three JVMs starting at once on a busy two-core machine: a broker must
    # not give up registering with the quorum after the default minute.
    "initial.broker.registration.timeout.ms": "600000",
}


class KafkaCluster:
    """Three combined KRaft nodes on loopback, one cluster id."""

    def __init__(self, root: Path, size: int = 3) -> None:
        ports = [(free_port(), free_port()) for _ in range(size)]
        voters = ",".join(f"{i}@127.0.0.1:{c}" for i, (_, c) in enumerate(ports, 1))
        cluster_id = new_cluster_id()
        self.nodes = {
            i: ApacheKafkaBroker(
                port,
                controller,
                root / f"node{i}",
                root / f"node{i}.log",
                overrides={**REPLICATED, "node.id": str(i), "controller.quorum.voters": voters},
                cluster_id=cluster_id,
            )
            for i, (port, controller) in enumerate(ports, 1)
        }
        self.settings = KafkaSettings(
            bootstrap=self.servers, replication_factor=3, partitions=3, idempotence="auto"
        )

    @property
    def servers(self) -> str:
        return ",".join(f"127.0.0.1:{n.port}" for n in self.nodes.values())

    def start(self) -> None:
        for node in self.nodes.values():
            node.start()

    def stop(self) -> None:
        for node in self.nodes.values():
            node.stop()

    async def registered(self, count: int) -> bool:
        """Whether every node's metadata lists ``count`` brokers."""
        for node in self.nodes.values():
            admin = AIOKafkaAdminClient(
                **{**aiokafka_options(self.settings), "bootstrap_servers": f"127.0.0.1:{node.port}"}
            )
            try:
                await admin.start()
                cluster = await admin.describe_cluster()
            except Exception:
                return False
            finally:
                await admin.close()
            if len(cluster["brokers"]) < count:
                return False
        return True

    async def leaders(self) -> Counter[int]:
        """How many partitions of the driftloop topics each node leads."""
        admin = AIOKafkaAdminClient(**aiokafka_options(self.settings))
        await admin.start()
        try:
            described = await admin.describe_topics([t.name for t in topics.ALL])
        finally:
            await admin.close()
        return Counter(p["leader"] for t in described for p in t["partitions"])

    def active_controller(self) -> int:
        """The KRaft quorum's leader, as kafka-metadata-quorum reports it."""
        alive = next(n for n in self.nodes.values() if n.process and n.process.poll() is None)
        done = subprocess.run(
            [
                java_binary(),
                "-cp",
                f"{fetch_jars()}/*",
                "org.apache.kafka.tools.MetadataQuorumCommand",
                "--bootstrap-server",
                f"127.0.0.1:{alive.port}",
                "describe",
                "--status",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        for line in done.stdout.splitlines():
            if line.startswith("LeaderId:"):
                return int(line.split(":", 1)[1])
        raise AssertionError(f"no LeaderId in:\n{done.stdout}{done.stderr}")


@pytest.fixture
async def cluster(tmp_path) -> AsyncIterator[KafkaCluster]:
    running = KafkaCluster(tmp_path / "cluster")
    running.start()
    try:
        # Every node answers on its own listener and sees all three brokers.
        for node in running.nodes.values():
            alone = running.settings.model_copy(update={"bootstrap": f"127.0.0.1:{node.port}"})
            await node.wait_ready(alone, timeout=600)
        await wait_for(lambda: running.registered(3), timeout_s=600, interval_s=1)
        yield running
    finally:
        running.stop()


def _write_report(counts: dict) -> None:
    report = Path(os.environ.get("DRIFTLOOP_CLUSTER_REPORT", "var/kafka-cluster-faults.json"))
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(counts, indent=2))


def _labelled_total(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        text = reply.read().decode()
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        if family.name == "driftloop_monitoring_labelled"
        for s in family.samples
        if s.name.endswith("_total")
    )


async def test_the_loop_survives_a_broker_crash_and_a_controller_crash(cluster, tmp_path):
    settings = ServiceSettings(
        data_dir=tmp_path / "var", port_offset=free_port_offset(), kafka=cluster.settings
    )
    platform = Platform(settings, SPEC, settings.data_dir, start_timeout_s=180)
    faults: dict[str, int] = {}
    try:
        await platform.start()
        demo = asyncio.create_task(
            run_demo(
                DemoConfig(
                    duration_s=220,
                    rate=100,
                    drift="abrupt",
                    drift_at=0.4,
                    label_delay_s=3,
                    stop_after_loop_s=20,
                ),
                settings.kafka,
                settings.address_of,
            )
        )
        await asyncio.sleep(30)
        faults["broker_killed"] = victim = (await cluster.leaders()).most_common(1)[0][0]
        cluster.nodes[victim].kill()
        await asyncio.sleep(40)
        cluster.nodes[victim].start()
        await cluster.nodes[victim].wait_ready(cluster.settings)
        await asyncio.sleep(20)
        faults["controller_killed"] = controller = cluster.active_controller()
        cluster.nodes[controller].kill()
        run = await demo
        s = summary(run)
        exits = {n: c.process.returncode for n, c in platform.children.items() if c.process}
        assert all(code is None for code in exits.values()), f"a service died: {exits}"
        counts = await _counts(platform, run, s)
    finally:
        codes = await platform.stop()
    counts["faults"] = faults
    counts["service_exit_codes"] = codes
    _write_report(counts)

    assert counts["records_in"] == counts["validated"] + counts["dead_lettered"], counts
    assert counts["validated_without_vector"] == 0, counts
    assert counts["joined"] == counts["labelled_predictions"], counts
    assert counts["retrains_after_drift"] == 1, s["events"]
    assert counts["promotions_after_drift"] == 1, s["events"]
    assert s["verdict"] == "VERDICT_PROMOTE", s["events"]
    assert all(code == 0 for code in codes.values()), codes


async def _counts(platform: Platform, run, s: dict) -> dict:
    kafka = platform.settings.kafka
    ours = set(run.accepted_at)

    async def read(topic: str, decode, count: int | None = None) -> list:
        records = await read_from(kafka, topic, None, timeout_s=60, idle_s=3, count=count)
        return [decode(r.value) for r in records]

    validated = [
        e.meta.event_id
        for e in await read(topics.RECORDS_VALIDATED.name, RecordValidated.FromString)
        if e.meta.event_id in ours
    ]
    stream = DemoConfig().stream
    dead = [
        e
        for e in await read(topics.RECORDS_DEADLETTER.name, RecordDeadLettered.FromString)
        if e.stream == stream and not e.is_label
    ]
    vectors = {
        e.record_id
        for e in await read(topics.FEATURES.name, FeatureVectorComputed.FromString, len(ours))
    }
    labels = {e.record_id for e in await read(topics.LABELS.name, LabelReceived.FromString)}
    # Monitoring joins a label once per (record, model, version): a record the
    # demo asked for twice, or served by champion and candidate, counts per key.
    predictions = {
        (e.record_id, e.model.name, e.model.version)
        for e in await read(topics.PREDICTIONS.name, PredictionMade.FromString)
        if e.record_id in ours
    }
    labelled = sum(1 for key in predictions if key[0] in labels)
    metrics_port = SERVICES["monitoring"].metrics_port + platform.port_offset
    # Labels arrive a few seconds after their prediction: wait for the joins to settle.
    try:
        await wait_for(lambda: _labelled_total(metrics_port) >= labelled, timeout_s=90)
    except AssertionError:
        pass  # the count below says how many are missing
    onset = run.onset_at or 0.0
    tl = run.timeline
    return {
        "records_in": len(ours),
        "validated": len(set(validated)),
        "validated_written_twice": len(validated) - len(set(validated)),
        "dead_lettered": len(dead),
        "validated_without_vector": len(set(validated) - vectors),
        "predictions": len(predictions),
        "labelled_predictions": labelled,
        "joined": int(_labelled_total(metrics_port)),
        "retrains_after_drift": len([e for e in tl.of("TrainingRequested") if e.at >= onset]),
        "promotions_after_drift": len(
            [
                e
                for e in tl.of("AliasChanged")
                if e.body.get("alias") == "champion" and e.at >= onset
            ]
        ),
        "verdict": s["verdict"],
        "prediction_failures": s["counts"]["prediction_failures"],
    }
