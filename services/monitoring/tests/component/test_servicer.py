"""The MonitoringService servicer on a real in-process gRPC server with the
platform's interceptor (error mapping), over a monitor fed in memory."""

from __future__ import annotations

import grpc
import pytest

from driftloop.monitoring.v1 import monitoring_service_pb2 as pb
from driftloop.monitoring.v1 import monitoring_service_pb2_grpc as pb_grpc
from driftloop.platform.grpc_client import channel
from driftloop.platform.grpc_server import GrpcServer
from driftloop.platform.settings import GrpcSettings
from driftloop.platform.testing import free_port
from driftloop_monitoring import synthetic
from driftloop_monitoring.entrypoints.servicer import MonitoringServicer
from driftloop_monitoring.service.monitor import Monitor
from driftloop_monitoring.service.policies import Policies
from driftloop_monitoring.service.ports import MemoryStore


@pytest.fixture
async def stub():
    clock = [0.0]
    monitor = Monitor(MemoryStore(), Policies(None), clock=lambda: clock[0])
    monitor.on_version(synthetic.reference())
    monitor.on_alias("m", "champion", 1, 0, event_id="a1")
    for row in synthetic.rows(1200, seed=2):
        clock[0] += 1.0
        monitor.on_prediction(synthetic.prediction(row, at=clock[0]))
        clock[0] += 1.0
        monitor.on_label(synthetic.label(row, at=clock[0]))
    monitor.on_prediction(synthetic.prediction(synthetic.Row(99999, (1, 1, 1), 0, 0)))
    monitor.on_alias("m", "candidate", 2, 0, event_id="a2", correlation_id="d1")
    server = GrpcServer(GrpcSettings(), free_port())
    server.add(
        pb_grpc.add_MonitoringServiceServicer_to_server,
        MonitoringServicer(monitor),
        "driftloop.monitoring.v1.MonitoringService",
    )
    await server.start()
    async with channel(f"127.0.0.1:{server.port}") as ch:
        yield pb_grpc.MonitoringServiceStub(ch)
    await server.stop()


async def test_model_health_reports_quality_drift_tests_and_the_join(stub):
    h = await stub.GetModelHealth(pb.GetModelHealthRequest(model="m"))
    [v] = h.versions
    assert (v.model.version, v.predictions, v.labelled) == (1, 1201, 1200)
    assert 0.85 < v.metrics["accuracy"] < 0.95 and "roc_auc" in v.metrics
    assert {f.name for f in h.features} == {"x0", "x1", "x2"}
    assert not any(f.drifted for f in h.features)
    assert h.label_join_lag_seconds_p50 == pytest.approx(1.0)


async def test_rollout_status_shows_the_active_rollout(stub):
    s = await stub.GetRolloutStatus(pb.GetRolloutStatusRequest(model="m"))
    assert (s.active, s.phase, s.candidate.version, s.champion.version) == (True, "started", 2, 1)
    assert s.candidate_share == pytest.approx(0.1)
    none = await stub.GetRolloutStatus(pb.GetRolloutStatusRequest(model="other"))
    assert not none.active


async def test_bad_requests_get_clear_errors(stub):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetModelHealth(pb.GetModelHealthRequest(model=""))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "model" in err.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetModelHealth(pb.GetModelHealthRequest(model="nope"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND and "nope" in err.value.details()
