"""Fixtures shared by the ingestion tests: a representative stream schema and
a publisher fake that records what would reach Kafka."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from driftloop.platform.spec import StreamSpec

EVENTS_SPEC = {
    "name": "events",
    "entity_field": "user",
    "event_time_field": "ts",
    "id_field": "id",
    "fields": [
        {"name": "id", "type": "string", "required": False, "max_length": 64},
        {"name": "user", "type": "string", "max_length": 16},
        {"name": "ts", "type": "timestamp", "required": False},
        {"name": "amount", "type": "float", "min": 0, "max": 1000},
        {"name": "count", "type": "int", "min": 0, "max": 100},
        {"name": "kind", "type": "categorical", "categories": ["a", "b", "c"]},
        {"name": "flag", "type": "bool", "required": False},
    ],
    "label": {"type": "int", "min": 0, "max": 1},
}


def events_spec(name: str = "events") -> StreamSpec:
    return StreamSpec.model_validate({**EVENTS_SPEC, "name": name})


def good_record(i: int) -> dict:
    return {"user": f"u{i % 50}", "amount": float(i % 1000), "count": i % 100, "kind": "abc"[i % 3]}


class FakePublisher:
    """Keeps what was published; can be told to fail like a broker that is down."""

    def __init__(self) -> None:
        self.items: list = []
        self.fail = False

    async def publish(self, items: Sequence) -> None:
        if self.fail:
            raise ConnectionError("broker down")
        self.items.extend(items)

    def of(self, kind: type) -> list:
        return [i for i in self.items if type(i) is kind]


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


def write_spec(path, *names: str):
    """A spec file declaring the events schema under each of ``names``."""
    import json

    streams = [{**EVENTS_SPEC, "name": n} for n in names]
    path.write_text(json.dumps({"api_version": "driftloop/v1", "streams": streams}))
    return path


def start_ingestion(kafka, data_dir, spec_path, **env: str):
    """Run the ingestion service as a real process on free ports; returns it
    and its gRPC address once it reports SERVING."""
    from driftloop.platform.testing import ServiceProcess, free_port, kafka_env, unique

    grpc_port, metrics_port = free_port(), free_port()
    proc = ServiceProcess(
        "driftloop_ingestion",
        {
            **kafka_env(kafka),
            "DRIFTLOOP_GRPC_PORT": str(grpc_port),
            "DRIFTLOOP_METRICS_PORT": str(metrics_port),
            "DRIFTLOOP_DATA_DIR": str(data_dir),
            "DRIFTLOOP_SPEC": str(spec_path),
            "DRIFTLOOP_RECORDS_GROUP": unique("ing-records"),
            "DRIFTLOOP_LABELS_GROUP": unique("ing-labels"),
            "DRIFTLOOP_LOG_FORMAT": "json",
            **env,
        },
        data_dir / "ingestion.log",
    ).start()
    address = f"127.0.0.1:{grpc_port}"
    try:
        proc.wait_healthy(address)
    except BaseException:
        proc.kill()
        raise
    proc.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    return proc, address
