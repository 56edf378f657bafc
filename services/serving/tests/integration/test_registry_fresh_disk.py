"""A PostgreSQL-backed registry replaced by one on an empty data directory
(a pod on an emptyDir): serving keeps answering with its champion throughout,
a serving replica started afterwards loads the champion from the new
registry, and no prediction fails. Real registry and serving processes, real
PostgreSQL, the real broker."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from driftloop.platform.testing import ServiceProcess, free_port, unique
from driftloop.registry.v1 import registry_service_pb2 as rpb
from driftloop.registry.v1 import registry_service_pb2_grpc
from inference import grpc_predict_v2_pb2 as pb
from inference import grpc_predict_v2_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration
WIDTH = 20


def _wait(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout_s}s: {what}")


def _ready(address: str) -> bool:
    with grpc.insecure_channel(address) as ch:
        try:
            reply = health_pb2_grpc.HealthStub(ch).Check(
                health_pb2.HealthCheckRequest(service="driftloop.ready"), timeout=5
            )
        except grpc.RpcError:
            return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def _infer(stub, model: str) -> pb.ModelInferResponse:
    req = pb.ModelInferRequest(model_name=model, id="r")
    req.inputs.add(name="input", datatype="FP32", shape=[1, WIDTH]).contents.fp32_contents.extend(
        [0.5] * WIDTH
    )
    return stub.ModelInfer(req, timeout=30)


@pytest.mark.timeout(1800)  # a loaded 2-core machine takes minutes to start processes
def test_registry_on_an_empty_disk_drops_nothing(
    kafka, tmp_path: Path, artifacts, postgres_url: str
):
    schema = f"reg_fresh_{uuid.uuid4().hex[:12]}"
    model = unique("m")
    registry_port = free_port()
    registry_address = f"127.0.0.1:{registry_port}"
    base = {"DRIFTLOOP_KAFKA_BOOTSTRAP": kafka.servers, "DRIFTLOOP_METRICS_ENABLED": "false"}
    base["DRIFTLOOP_LOG_FORMAT"] = "json"

    def registry(data_dir: Path) -> ServiceProcess:
        env = {
            **base,
            "DRIFTLOOP_GRPC_PORT": str(registry_port),
            "DRIFTLOOP_DATA_DIR": str(data_dir),
            "DRIFTLOOP_DATABASE_URL": postgres_url,
            "DRIFTLOOP_DATABASE_SCHEMA": schema,
            "DRIFTLOOP_ROLLOUTS_GROUP": unique("registry"),
        }
        proc = ServiceProcess("driftloop_registry", env, data_dir.parent / f"{data_dir.name}.log")
        proc.start().wait_healthy(registry_address, timeout_s=600)
        return proc

    def serving() -> tuple[ServiceProcess, str]:
        port = free_port()
        env = {
            **base,
            "DRIFTLOOP_GRPC_PORT": str(port),
            "DRIFTLOOP_DATA_DIR": str(tmp_path / "serving"),
            "DRIFTLOOP_SERVICE_ADDRESSES": json.dumps({"registry": registry_address}),
            "DRIFTLOOP_INSTANCE_ID": unique("i"),
            "DRIFTLOOP_STREAM_SCORING": "false",
            "DRIFTLOOP_RECONCILE_INTERVAL_S": "1",
        }
        proc = ServiceProcess("driftloop_serving", env, tmp_path / f"serving-{port}.log").start()
        address = f"127.0.0.1:{port}"
        _wait(lambda: _ready(address), 600, f"serving at {address} ready: {proc.tail()}")
        return proc, address

    procs: list[ServiceProcess] = []
    answers, failures = [0], []
    stop = threading.Event()
    load: threading.Thread | None = None
    try:
        procs.append(registry(tmp_path / "disk-a"))
        data = artifacts["v1"]
        meta = rpb.RegisterModelVersionMetadata(
            model=model, feature_width=WIDTH, expected_sha256=hashlib.sha256(data).hexdigest()
        )
        with grpc.insecure_channel(registry_address) as ch:
            stub = registry_service_pb2_grpc.RegistryServiceStub(ch)
            requests = [rpb.RegisterModelVersionRequest(metadata=meta)]
            requests.append(rpb.RegisterModelVersionRequest(chunk=data))
            version = stub.RegisterModelVersion(iter(requests), timeout=300).version
            stub.SetAlias(rpb.SetAliasRequest(model=model, alias="champion", version=version))
        first, first_address = serving()
        procs.append(first)

        def client() -> None:
            with grpc.insecure_channel(first_address) as ch:
                infer = pb_grpc.GRPCInferenceServiceStub(ch)
                while not stop.is_set():
                    try:
                        _infer(infer, model)
                        answers[0] += 1
                    except grpc.RpcError as exc:
                        failures.append(exc)

        load = threading.Thread(target=client)
        load.start()
        _wait(lambda: answers[0] >= 50, 300, "answers before the replacement")
        # The registry pod is replaced by one on an empty disk.
        assert procs[0].terminate() == 0
        before = answers[0]
        procs[0] = registry(tmp_path / "disk-b")
        assert not (tmp_path / "disk-b" / "artifacts" / "sha256").exists()
        # A new serving replica loads the champion from the new registry.
        second, second_address = serving()
        procs.append(second)
        with grpc.insecure_channel(second_address) as ch:
            reply = _infer(pb_grpc.GRPCInferenceServiceStub(ch), model)
        assert reply.model_version == str(version)
        _wait(lambda: answers[0] >= before + 50, 300, "answers after the replacement")
    finally:
        stop.set()
        if load is not None:
            load.join(120)  # the last call ends before serving is stopped
        for proc in procs:
            if proc.proc is not None and proc.proc.poll() is None:
                proc.terminate()
        from driftloop_registry.adapters.sql_connections import PostgresDatabase

        db = PostgresDatabase(postgres_url, schema)
        db.drop_schema()
        db.close()
    assert failures == [], failures[:3]
