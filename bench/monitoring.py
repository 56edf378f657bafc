"""Monitoring benchmark, side by side with its peers on the same data.

Three measurements on river SEA streams (see ``driftloop_monitoring.synthetic``):

- **Detection delay** of an abrupt concept change (error 0.10 -> ~0.20): the
  real monitoring process fed through an embedded broker, against the same
  river detector (ADWIN, same parameters) run offline over the same per-
  prediction loss stream. Samples from the change to the detection, and wall
  time: offline = the detector's compute time over those samples; service =
  from sending the label of the detecting sample to reading ``DriftDetected``.
- **False alarms per million stationary events**: the service's core (join,
  detectors on loss and predictions, windowed PSI/KS tests, debouncing) in
  process, against raw river ADWIN on the same loss stream.
- **Throughput**: predictions + labels the monitoring process sustains,
  against raw aiokafka consumption of the same topics (both joined and idle
  first, then timed from the first send to the last record handled).

    uv run python bench/monitoring.py --quick     # seconds per case
    uv run python bench/monitoring.py             # larger streams
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from river import drift

from driftloop.common.v1.common_pb2 import (
    MODEL_ROLE_CHAMPION,
    TASK_KIND_CLASSIFICATION,
    ModelRef,
    Value,
)
from driftloop.ingestion.v1.events_pb2 import LabelReceived
from driftloop.monitoring.v1 import monitoring_service_pb2 as svc
from driftloop.monitoring.v1 import monitoring_service_pb2_grpc as svc_grpc
from driftloop.monitoring.v1.events_pb2 import DriftDetected
from driftloop.platform import topics
from driftloop.platform.bus import aiokafka_options
from driftloop.platform.embedded import TansuBroker, ensure_topics
from driftloop.platform.envelope import headers_for, new_meta
from driftloop.platform.grpc_client import channel
from driftloop.platform.settings import KafkaSettings
from driftloop.platform.testing import ServiceProcess, free_port, kafka_env
from driftloop.registry.v1.events_pb2 import AliasChanged
from driftloop.registry.v1.model_pb2 import ModelVersion
from driftloop.serving.v1.events_pb2 import PredictionMade
from driftloop_monitoring import synthetic
from driftloop_monitoring.service.monitor import Monitor
from driftloop_monitoring.service.policies import Policies
from driftloop_monitoring.service.ports import MemoryStore

RESULTS = Path(__file__).parent / "results"


def offline_delay(rows: list[synthetic.Row], change_at: int) -> tuple[int | None, float]:
    """River ADWIN on the loss stream: (delay in samples, compute seconds)."""
    adwin = drift.ADWIN()
    spent = 0.0
    for r in rows:
        t = time.perf_counter()
        adwin.update(float(r.y_pred != r.y_true))
        spent += time.perf_counter() - t if r.i >= change_at else 0.0
        if adwin.drift_detected and r.i >= change_at:
            return r.i - change_at, spent
    return None, spent


def false_alarms(n: int) -> tuple[int, int, float]:
    """(service-core drift events, raw ADWIN detections, core events/s) on n stationary rows."""
    clock = [0.0]
    monitor = Monitor(MemoryStore(), Policies(None), clock=lambda: clock[0])
    monitor.on_version(synthetic.reference())
    monitor.on_alias("m", "champion", 1, 0)
    adwin, raw, events = drift.ADWIN(), 0, 0
    rows = list(synthetic.rows(n, seed=11))
    t = time.perf_counter()
    for r in rows:
        clock[0] += 0.01
        events += len(monitor.on_prediction(synthetic.prediction(r, at=clock[0])))
        events += len(monitor.on_label(synthetic.label(r, at=clock[0])))
    elapsed = time.perf_counter() - t
    for r in rows:
        adwin.update(float(r.y_pred != r.y_true))
        raw += adwin.drift_detected
    return events, raw, 2 * n / elapsed


def to_events(model: str, rows: list[synthetic.Row]) -> list[tuple[list, list]]:
    """Per row: (prediction event, label event), keyed as the services key them."""
    out = []
    for r in rows:
        rid = f"{model}-{r.i}"
        p = PredictionMade(
            meta=new_meta("serving"),
            record_id=rid,
            model=ModelRef(name=model, version=1),
            role=MODEL_ROLE_CHAMPION,
            prediction=float(r.y_pred),
            probabilities=[0.8 - 0.6 * r.y_pred, 0.2 + 0.6 * r.y_pred],
            latency_ms=1.0,
            feature_names=list(synthetic.NAMES),
            features=list(r.x),
        )
        p.predicted_at.GetCurrentTime()
        lab = LabelReceived(
            meta=new_meta("ingestion"), record_id=rid, label=Value(int_value=r.y_true)
        )
        out.append(((p, model), (lab, rid)))
    return out


def record(event, key: str) -> tuple[str, bytes, bytes, list]:
    headers = [(k, v.encode()) for k, v in headers_for(event).items()]
    return topics.TOPIC_OF[event.DESCRIPTOR.full_name], event.SerializeToString(), key, headers


async def produce(kafka: KafkaSettings, events: list) -> None:
    producer = AIOKafkaProducer(**aiokafka_options(kafka), linger_ms=5, max_batch_size=262144)
    await producer.start()
    try:
        futures = []
        for event, key in events:
            topic, value, k, headers = record(event, key)
            futures.append(await producer.send(topic, value, key=k.encode(), headers=headers))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def start_service(kafka: KafkaSettings, tmp: Path) -> tuple[ServiceProcess, str]:
    port = free_port()
    env = {
        **kafka_env(kafka),
        "DRIFTLOOP_GRPC_PORT": str(port),
        "DRIFTLOOP_METRICS_ENABLED": "false",
        "DRIFTLOOP_DATA_DIR": str(tmp / f"data-{port}"),
        "DRIFTLOOP_CONSUMER_GROUP": f"bench-{uuid.uuid4().hex[:8]}",
        "DRIFTLOOP_REGISTRY_BOOTSTRAP": "false",
        "DRIFTLOOP_LOG_LEVEL": "WARNING",
        "DRIFTLOOP_LOG_FORMAT": "json",
    }
    proc = ServiceProcess("driftloop_monitoring", env, tmp / f"monitoring-{port}.log").start()
    proc.wait_healthy(f"127.0.0.1:{port}", timeout_s=120)
    return proc, f"127.0.0.1:{port}"


async def labelled(address: str, model: str) -> tuple[int, int]:
    async with channel(address) as ch:
        try:
            h = await svc_grpc.MonitoringServiceStub(ch).GetModelHealth(
                svc.GetModelHealthRequest(model=model)
            )
        except Exception:
            return 0, 0
    return sum(v.predictions for v in h.versions), sum(v.labelled for v in h.versions)


async def champion(kafka: KafkaSettings, address: str, model: str) -> None:
    mv = ModelVersion(model=model, version=1, task=TASK_KIND_CLASSIFICATION)
    event = AliasChanged(
        meta=new_meta("registry"), model=model, alias="champion", version=1, model_version=mv
    )
    await produce(kafka, [(event, model)])
    while True:
        async with channel(address) as ch:
            try:
                await svc_grpc.MonitoringServiceStub(ch).GetModelHealth(
                    svc.GetModelHealthRequest(model=model)
                )
                return
            except Exception:
                await asyncio.sleep(0.1)


async def service_delay(kafka, address, n: int, change_at: int, rate: float) -> dict:
    """Feed the service at ``rate`` rows/s; return the detection delay."""
    model = f"delay-{uuid.uuid4().hex[:8]}"
    await champion(kafka, address, model)
    rows = list(synthetic.rows(n, seed=21, concept_change_at=change_at))
    events = to_events(model, rows)
    consumer = AIOKafkaConsumer(
        topics.DRIFT.name, **aiokafka_options(kafka), auto_offset_reset="latest"
    )
    await consumer.start()
    await consumer.getmany(timeout_ms=500)
    producer = AIOKafkaProducer(**aiokafka_options(kafka), linger_ms=1)
    await producer.start()
    sent_at: dict[int, float] = {}
    found: list[tuple[DriftDetected, float]] = []

    async def watch() -> None:
        while not found:
            for recs in (await consumer.getmany(timeout_ms=100)).values():
                for rec in recs:
                    if rec.key == model.encode():
                        found.append((DriftDetected.FromString(rec.value), time.perf_counter()))

    watcher = asyncio.create_task(watch())
    t0 = time.perf_counter()
    for i, (pred, lab) in enumerate(events):
        for event, key in (pred, lab):
            topic, value, k, headers = record(event, key)
            await producer.send(topic, value, key=k.encode(), headers=headers)
        sent_at[i] = time.perf_counter()
        if found:
            break
        ahead = t0 + (i + 1) / rate - time.perf_counter()
        if ahead > 0:
            await asyncio.sleep(ahead)
    await producer.flush()
    try:
        await asyncio.wait_for(watcher, 30)
    except TimeoutError:
        pass
    await producer.stop()
    await consumer.stop()
    if not found:
        return {"detected": False}
    d, at = found[0]
    detected_row = d.change_started_position + d.window.samples - 2  # 0-based row index
    return {
        "detected": True,
        "delay_samples": detected_row - change_at,
        "wall_s": at - sent_at.get(detected_row, at),
        "start_error": d.change_started_position - 1 - change_at,
    }


async def throughput(kafka, address: str, n: int) -> dict:
    """n predictions + n labels produced as fast as one producer can, consumed
    by raw aiokafka and by the service; each timed from the first send to the
    last record handled (consumers joined and idle before)."""
    model = f"tput-{uuid.uuid4().hex[:8]}"
    rows = list(synthetic.rows(n, seed=31))
    flat = [e for pair in to_events(model, rows) for e in pair]

    consumer = AIOKafkaConsumer(
        topics.PREDICTIONS.name,
        topics.LABELS.name,
        **aiokafka_options(kafka),
        group_id=f"raw-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="latest",
        enable_auto_commit=False,
    )
    await consumer.start()
    while not consumer.assignment():
        await consumer.getmany(timeout_ms=200)
    await consumer.getmany(timeout_ms=500)
    t0 = time.perf_counter()
    sender = asyncio.create_task(produce(kafka, flat))
    seen = 0
    while seen < len(flat):
        for recs in (await consumer.getmany(timeout_ms=500, max_records=500)).values():
            seen += sum(1 for r in recs if r.key.startswith(model.encode()))
    raw_s = time.perf_counter() - t0
    await sender
    await consumer.stop()

    model = f"tput-{uuid.uuid4().hex[:8]}"
    flat = [e for pair in to_events(model, rows) for e in pair]
    await champion(kafka, address, model)
    t0 = time.perf_counter()
    sender = asyncio.create_task(produce(kafka, flat))
    while (await labelled(address, model))[1] < n:
        await asyncio.sleep(0.05)
    service_s = time.perf_counter() - t0
    await sender
    return {
        "events": len(flat),
        "raw_events_per_s": len(flat) / raw_s,
        "service_events_per_s": len(flat) / service_s,
    }


async def run_service_cases(args, kafka: KafkaSettings, tmp: Path) -> dict:
    # One process for both cases: a start costs tens of seconds of group joins.
    proc, address = start_service(kafka, tmp)
    try:
        delay = await service_delay(kafka, address, args.delay_rows, args.change_at, args.rate)
        return {"delay": delay, "throughput": await throughput(kafka, address, args.tput_rows)}
    finally:
        proc.terminate()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    args.stationary = 200_000 if args.quick else 1_000_000
    args.delay_rows, args.change_at = 8000, 4000
    args.rate = 2000.0
    args.tput_rows = 10_000 if args.quick else 50_000

    rows = list(synthetic.rows(args.delay_rows, seed=21, concept_change_at=args.change_at))
    off_samples, off_s = offline_delay(rows, args.change_at)
    fa_service, fa_raw, core_rate = false_alarms(args.stationary)

    tmp = Path(tempfile.mkdtemp(prefix="bench-monitoring-"))
    port = free_port()
    kafka = KafkaSettings(embedded_port=port)
    broker = TansuBroker(port, tmp / "broker.log")
    broker.start()
    try:

        async def ready() -> dict:
            await broker.wait_ready(kafka)
            await ensure_topics(kafka)
            return await run_service_cases(args, kafka, tmp)

        svc_results = asyncio.run(ready())
    finally:
        broker.stop()

    per_million = 1_000_000 / args.stationary
    d, t = svc_results["delay"], svc_results["throughput"]
    result = {
        "quick": args.quick,
        "offline_adwin": {"delay_samples": off_samples, "compute_s": off_s},
        "service": d,
        "false_alarms_per_million": {
            "service_core": fa_service * per_million,
            "raw_adwin": fa_raw * per_million,
            "stationary_rows": args.stationary,
            "core_events_per_s": core_rate,
        },
        "throughput": t,
    }
    name = "monitoring-quick" if args.quick else "monitoring"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2))
    lines = [
        "## monitoring\n",
        f"SEA streams (river), {'quick' if args.quick else 'full'} mode. Peer: river ADWIN "
        "offline on the same loss stream; raw aiokafka on the same topics.\n",
        "| measure | driftloop monitoring | peer | ratio |",
        "|---|---|---|---|",
    ]
    if d.get("detected"):
        ratio = d["delay_samples"] / off_samples if off_samples else float("nan")
        lines.append(
            f"| detection delay (samples) | {d['delay_samples']} | {off_samples} | {ratio:.2f} |"
        )
        lines.append(
            f"| detection delay (wall, s) | {d['wall_s']:.3f} (end to end, {args.rate:.0f} "
            f"rows/s) | {off_s:.6f} (compute only) | - |"
        )
        lines.append(f"| change start estimate error (samples) | {d['start_error']} | - | - |")
    else:
        lines.append("| detection delay | not detected | - | - |")
    fa = result["false_alarms_per_million"]
    lines.append(
        "| false alarms per million stationary predictions (each with its label) | "
        f"{fa['service_core']:.1f} | "
        f"{fa['raw_adwin']:.1f} (raw ADWIN) | - |"
    )
    lines.append(
        f"| events/s sustained | {t['service_events_per_s']:.0f} | "
        f"{t['raw_events_per_s']:.0f} (raw aiokafka) | "
        f"{t['service_events_per_s'] / t['raw_events_per_s']:.2f} |"
    )
    lines.append(f"| core (in process) events/s | {core_rate:.0f} | - | - |")
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
