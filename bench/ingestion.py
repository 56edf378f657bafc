"""Ingestion throughput, side by side with raw aiokafka on the same broker.

Three cases over the same JSON payloads (the demo spec's `loans` records),
on one embedded broker, alternated A/B/C and repeated:

- ``aiokafka``: a plain producer writes the payloads to a bench topic and a
  plain consumer reads them back (the floor any Kafka hop costs);
- ``raw-topic``: the producer writes them to ``driftloop.records.raw``; a real
  ingestion process validates and republishes them; the consumer reads the
  ``RecordValidated`` events from ``driftloop.records.validated``;
- ``grpc-stream``: a client sends them over one ``StreamRecords`` call (500
  records per message); the consumer reads them from the validated topic.

Each case is timed from the first record sent to the last one consumed.
Reported: records/s, the ratio to ``aiokafka``, and CPU per record of the
ingestion process (from /proc) and of the bench process (client + consumer).

    uv run python bench/ingestion.py --quick     # seconds per case
    uv run python bench/ingestion.py             # 100k records, 3 rounds

BENCH_RAW_BATCH sets the service's raw batch size (default 5000, the service's
default); BENCH_LOG_LEVEL=DEBUG logs each batch's validate and publish times in
the service log (in the printed work directory's ingestion.log).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import grpc
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from driftloop.ingestion.v1 import ingestion_service_pb2 as api
from driftloop.ingestion.v1.ingestion_service_pb2_grpc import IngestionServiceStub
from driftloop.platform import topics
from driftloop.platform.bus import aiokafka_options
from driftloop.platform.embedded import TansuBroker, ensure_topics
from driftloop.platform.settings import KafkaSettings
from driftloop.platform.testing import ServiceProcess, free_port, kafka_env

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "cli/src/driftloop_cli/specs/demo.yaml"
TICKS = os.sysconf("SC_CLK_TCK")


def payloads(n: int, seed: int = 7) -> list[tuple[bytes, bytes]]:
    """``n`` loan records; the same for a seed except their ids, which are new on
    every call (ingestion would drop a repeated id as a duplicate)."""
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:8]
    out = []
    for i in range(n):
        customer = f"c{rng.randrange(5000)}"
        record = {
            "id": f"{run}-{i}",
            "customer_id": customer,
            "salary": round(rng.uniform(20000, 150000), 2),
            "commission": round(rng.uniform(0, 75000), 2),
            "age": rng.randrange(20, 80),
            "elevel": str(rng.randrange(5)),
            "car": rng.randrange(1, 21),
            "zipcode": str(rng.randrange(9)),
            "hvalue": round(rng.uniform(50000, 900000), 2),
            "hyears": rng.randrange(1, 31),
            "loan": round(rng.uniform(0, 500000), 2),
        }
        out.append((customer.encode(), json.dumps(record).encode()))
    return out


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def own_cpu() -> float:
    t = os.times()
    return t.user + t.system


class Consumer:
    """Counts records arriving on a topic from its current end."""

    def __init__(self, kafka: KafkaSettings, topic: str) -> None:
        self.consumer = AIOKafkaConsumer(
            topic,
            **aiokafka_options(kafka),
            group_id=f"bench-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="latest",
            enable_auto_commit=False,
            max_poll_records=5000,
            fetch_max_bytes=32 * 1024 * 1024,
        )

    async def start(self) -> None:
        await self.consumer.start()
        while not self.consumer.assignment():
            await asyncio.sleep(0.05)
        # Resolve the end positions now, so records sent afterwards are counted.
        for tp in self.consumer.assignment():
            await self.consumer.position(tp)

    async def drain(self, n: int, timeout_s: float) -> float:
        got, deadline = 0, time.monotonic() + timeout_s
        while got < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {got} of {n} records arrived")
            batch = await self.consumer.getmany(timeout_ms=200, max_records=5000)
            got += sum(len(v) for v in batch.values())
        return time.monotonic()

    async def stop(self) -> None:
        await self.consumer.stop()


async def produce(kafka: KafkaSettings, topic: str, items: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(**aiokafka_options(kafka), linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(topic, v, key=k) for k, v in items]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def case_aiokafka(kafka, items, _service) -> dict:
    consumer = Consumer(kafka, "bench.baseline")
    await consumer.start()
    c0, t0 = own_cpu(), time.monotonic()
    drained = asyncio.create_task(consumer.drain(len(items), 300))
    await produce(kafka, "bench.baseline", items)
    t1 = await drained
    await consumer.stop()
    return {"seconds": t1 - t0, "bench_cpu": own_cpu() - c0, "service_cpu": 0.0}


async def case_raw(kafka, items, service) -> dict:
    proc, _address = service
    consumer = Consumer(kafka, topics.RECORDS_VALIDATED.name)
    await consumer.start()
    s0, c0, t0 = cpu_seconds(proc.proc.pid), own_cpu(), time.monotonic()
    drained = asyncio.create_task(consumer.drain(len(items), 300))
    await produce(kafka, topics.RECORDS_RAW.name, items)
    t1 = await drained
    await consumer.stop()
    return {
        "seconds": t1 - t0,
        "bench_cpu": own_cpu() - c0,
        "service_cpu": cpu_seconds(proc.proc.pid) - s0,
    }


async def case_grpc(kafka, items, service, batch: int = 500) -> dict:
    proc, address = service
    consumer = Consumer(kafka, topics.RECORDS_VALIDATED.name)
    await consumer.start()

    async def requests():
        for i in range(0, len(items), batch):
            yield api.IngestRecordsRequest(
                stream="loans",
                records=[api.RecordInput(json=v.decode()) for _k, v in items[i : i + batch]],
            )

    s0, c0, t0 = cpu_seconds(proc.proc.pid), own_cpu(), time.monotonic()
    drained = asyncio.create_task(consumer.drain(len(items), 300))
    async with grpc.aio.insecure_channel(
        address, options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)]
    ) as channel:
        reply = await IngestionServiceStub(channel).StreamRecords(requests())
    acked = time.monotonic()
    assert reply.accepted == len(items), (reply.accepted, reply.rejected, reply.duplicates)
    t1 = await drained
    await consumer.stop()
    return {
        "seconds": t1 - t0,
        "acked_seconds": acked - t0,
        "bench_cpu": own_cpu() - c0,
        "service_cpu": cpu_seconds(proc.proc.pid) - s0,
    }


CASES = {"aiokafka": case_aiokafka, "raw-topic": case_raw, "grpc-stream": case_grpc}


async def main(args: argparse.Namespace) -> dict:
    work = Path(tempfile.mkdtemp(prefix="bench-ingestion-"))
    port = free_port()
    kafka = KafkaSettings(embedded_port=port)
    broker = TansuBroker(port, work / "broker.log")
    broker.start()
    proc = None
    try:
        await broker.wait_ready(kafka)
        await ensure_topics(kafka)
        admin = AIOKafkaAdminClient(**aiokafka_options(kafka))
        await admin.start()
        await admin.create_topics([NewTopic("bench.baseline", kafka.partitions, 1)])
        await admin.close()
        grpc_port = free_port()
        proc = ServiceProcess(
            "driftloop_ingestion",
            {
                **kafka_env(kafka),
                "DRIFTLOOP_GRPC_PORT": str(grpc_port),
                "DRIFTLOOP_METRICS_ENABLED": "false",
                "DRIFTLOOP_DATA_DIR": str(work),
                "DRIFTLOOP_SPEC": str(SPEC),
                "DRIFTLOOP_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
                "DRIFTLOOP_RAW_BATCH_RECORDS": os.environ.get("BENCH_RAW_BATCH", "5000"),
                "DRIFTLOOP_GRPC_MAX_MESSAGE_BYTES": str(64 * 1024 * 1024),
            },
            work / "ingestion.log",
        ).start()
        address = f"127.0.0.1:{grpc_port}"
        proc.wait_healthy(address)
        print(f"ingestion pid {proc.proc.pid}", file=sys.stderr)
        service = (proc, address)
        # Warm-up: connections, JIT-free but caches and allocators.
        for case in CASES.values():
            await case(kafka, payloads(2000, seed=1), service)
        runs: dict[str, list[dict]] = {name: [] for name in CASES}
        for r in range(args.rounds):
            for name, case in CASES.items():
                items = payloads(args.records, seed=100 + r)
                result = await case(kafka, items, service)
                runs[name].append(result)
                print(
                    f"round {r + 1} {name:12s} {len(items) / result['seconds']:9.0f} rec/s",
                    file=sys.stderr,
                )
        return summarize(runs, args.records)
    finally:
        if proc is not None and proc.proc is not None:
            proc.terminate()
        broker.stop()


def summarize(runs: dict[str, list[dict]], n: int) -> dict:
    out: dict = {
        "records_per_run": n,
        "rounds": len(runs["aiokafka"]),
        "cpus": os.cpu_count(),
        # Other work on the machine skews every figure; the ratios less so.
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "cases": {},
    }
    base = statistics.median(n / r["seconds"] for r in runs["aiokafka"])
    for name, results in runs.items():
        rate = statistics.median(n / r["seconds"] for r in results)
        entry = {
            "records_per_s": round(rate),
            "ratio_to_aiokafka": round(rate / base, 3),
            "service_cpu_us_per_record": round(
                statistics.median(r["service_cpu"] for r in results) / n * 1e6, 1
            ),
            "bench_cpu_us_per_record": round(
                statistics.median(r["bench_cpu"] for r in results) / n * 1e6, 1
            ),
        }
        if "acked_seconds" in results[0]:
            entry["acked_records_per_s"] = round(
                statistics.median(n / r["acked_seconds"] for r in results)
            )
        out["cases"][name] = entry
    return out


def markdown(summary: dict) -> str:
    lines = [
        "## Ingestion: records in → validated events out, driftloop vs raw aiokafka\n",
        f"{summary['records_per_run']:,} demo `loans` records (~300 bytes of JSON) per case, "
        f"{summary['rounds']} alternated rounds, median; one embedded broker; load average "
        f"{summary['load_average_1m_at_end']} at the end. The peer is one Kafka hop (a plain "
        "producer, a plain consumer); driftloop's cases are two (in, validated and "
        "republished, out), timed from the first record sent to the last event consumed.\n",
        "| case | records/s | ratio to aiokafka | service CPU µs/record | bench CPU µs/record |",
        "|---|---|---|---|---|",
    ]
    for case, c in summary["cases"].items():
        lines.append(
            f"| {case} | {c['records_per_s']:,} | {c['ratio_to_aiokafka']:.2f}× | "
            f"{c['service_cpu_us_per_record'] or '—'} | {c['bench_cpu_us_per_record']} |"
        )
    lines.append("\nGoal: ≥ 0.5× raw aiokafka for both ways in.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20k records, 2 rounds")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--out",
        type=Path,
        help="write the JSON summary here (default bench/results/ingestion.json; a .md beside it)",
    )
    args = parser.parse_args()
    if args.quick:
        args.records, args.rounds = 20_000, 2
    summary = asyncio.run(main(args))
    text = json.dumps(summary, indent=2)
    print(text)
    name = "ingestion-quick" if args.quick else "ingestion"
    out = args.out or ROOT / "bench" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")
    out.with_suffix(".md").write_text(markdown(summary))
