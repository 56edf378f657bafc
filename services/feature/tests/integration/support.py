"""Running the feature service as a real process against the real broker, and
feeding it validated records as ingestion would."""

from __future__ import annotations

import random
from pathlib import Path

from aiokafka import AIOKafkaProducer

from driftloop.feature.v1.events_pb2 import FeatureVectorComputed
from driftloop.ingestion.v1.events_pb2 import RecordDeadLettered, RecordValidated
from driftloop.platform import topics
from driftloop.platform.bus import aiokafka_options
from driftloop.platform.envelope import headers_for, new_meta
from driftloop.platform.settings import KafkaSettings
from driftloop.platform.testing import ServiceProcess, free_port, kafka_env, read_from

SPEC = """
streams:
  - name: {stream}
    entity_field: user
    fields:
      - {{name: user, type: string}}
      - {{name: amount, type: float}}
      - {{name: fee, type: float, required: false}}
      - {{name: kind, type: categorical, categories: [a, b, c]}}
feature_views:
{views}
"""

VIEW = """
  - name: {name}
    version: 1
    stream: {stream}
    allowed_lateness_s: 30
    features:
      - {{name: amount, kind: standard_scale, field: amount}}
      - {{name: kind, kind: one_hot, field: kind}}
      - {{name: amount_mean_5, kind: rolling, field: amount, agg: mean, window_events: 5}}
      - {{name: amount_max_60s, kind: rolling, field: amount, agg: max, window_seconds: 60}}
      - {{name: amount_std_20, kind: rolling, field: amount, agg: std, window_events: 20}}
      - {{name: since_prev, kind: time_since_previous}}
      - {{name: fee_ratio, kind: ratio, numerator: fee, denominator: amount}}
"""


def write_spec(path: Path, stream: str, views: list[str]) -> Path:
    text = SPEC.format(
        stream=stream, views="".join(VIEW.format(name=v, stream=stream) for v in views)
    )
    path.write_text(text)
    return path


#: Every process start_feature started; conftest.py stops what a test left.
STARTED: list[ServiceProcess] = []


def start_feature(
    kafka: KafkaSettings, spec: Path, data_dir: Path, group: str, **extra: str
) -> tuple[ServiceProcess, str]:
    port = free_port()
    env = {
        **kafka_env(kafka),
        "DRIFTLOOP_SPEC": str(spec),
        "DRIFTLOOP_DATA_DIR": str(data_dir),
        "DRIFTLOOP_GRPC_PORT": str(port),
        "DRIFTLOOP_METRICS_ENABLED": "false",
        "DRIFTLOOP_LOG_FORMAT": "json",
        "DRIFTLOOP_FEATURE_GROUP": group,
        "DRIFTLOOP_FEATURE_CHECKPOINT_INTERVAL_S": "0.5",
        **extra,
    }
    proc = ServiceProcess("driftloop_feature", env, data_dir / "feature.log").start()
    STARTED.append(proc)
    address = f"127.0.0.1:{port}"
    proc.wait_healthy(address, timeout_s=150)  # generous: a loaded 2-core machine
    return proc, address


def make_records(
    stream: str, n: int, entities: int, *, late: int = 0, missing: int = 0, seed: int = 7
) -> tuple[list[RecordValidated], set[str]]:
    """Records of ``entities`` users with out-of-order times within the view's
    30 s lateness, plus ``late`` records far behind and ``missing`` without a
    fee: returns the records and the ids that must be dead-lettered."""
    rng = random.Random(seed)
    clock = {f"{stream}-u{i}": 1_700_000_000.0 for i in range(entities)}
    out, bad = [], set()
    bad_at = set(rng.sample(range(100, n), late + missing))
    late_at = set(list(bad_at)[:late])
    for i in range(n):
        user = rng.choice(sorted(clock))
        clock[user] += rng.uniform(0.5, 10)
        t = clock[user] - (rng.uniform(0, 20) if rng.random() < 0.2 else 0)
        fields = {"user": user, "amount": rng.uniform(1, 500), "fee": rng.uniform(0, 5)}
        if i in bad_at:
            bad.add(f"{stream}-r{i}")
            if i in late_at:
                t = clock[user] - 1000
            else:
                del fields["fee"]
        rec = RecordValidated(
            meta=new_meta("ingestion", event_id=f"{stream}-r{i}"),
            stream=stream,
            schema_version=1,
            entity_id=user,
        )
        rec.event_time.FromNanoseconds(int(t * 1e9))
        rec.ingested_at.GetCurrentTime()
        for k, v in fields.items():
            if isinstance(v, str):
                rec.fields[k].string_value = v
            else:
                rec.fields[k].number_value = v
        rec.fields["kind"].string_value = rng.choice("abc")
        out.append(rec)
    return out, bad


async def produce(kafka: KafkaSettings, records: list[RecordValidated]) -> None:
    producer = AIOKafkaProducer(**aiokafka_options(kafka), linger_ms=10)
    await producer.start()
    try:
        futures = []
        for r in records:
            headers = [(k, v.encode()) for k, v in headers_for(r).items()]
            futures.append(
                await producer.send(
                    topics.RECORDS_VALIDATED.name,
                    r.SerializeToString(),
                    key=r.entity_id.encode(),
                    headers=headers,
                )
            )
        for f in futures:
            await f
    finally:
        await producer.stop()


async def read_vectors(
    kafka: KafkaSettings, start, stream: str, count: int | None, timeout_s: float = 90.0
) -> list[FeatureVectorComputed]:
    """Vectors of ``stream`` published after ``start`` (stops at ``count``)."""
    records = await read_from(
        kafka,
        topics.FEATURES.name,
        start,
        count=count,
        timeout_s=timeout_s,
        idle_s=1.0,
        predicate=lambda r: FeatureVectorComputed.FromString(r.value).stream == stream,
    )
    return [FeatureVectorComputed.FromString(r.value) for r in records]


async def read_dead_letters(
    kafka: KafkaSettings, start, stream: str, count: int | None, timeout_s: float = 30.0
) -> list[RecordDeadLettered]:
    records = await read_from(
        kafka,
        topics.RECORDS_DEADLETTER.name,
        start,
        count=count,
        timeout_s=timeout_s,
        idle_s=1.0,
        predicate=lambda r: RecordDeadLettered.FromString(r.value).stream == stream,
    )
    return [RecordDeadLettered.FromString(r.value) for r in records]
