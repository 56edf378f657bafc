"""The shared gRPC bootstrap on a real loopback server."""

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from pydantic import SecretStr

from driftloop.platform import errors
from driftloop.platform.grpc_client import channel
from driftloop.platform.grpc_server import GrpcServer
from driftloop.platform.settings import GrpcSettings
from driftloop.platform.testing import free_port
from driftloop.training.v1 import run_pb2, training_service_pb2, training_service_pb2_grpc

SERVICE = "driftloop.training.v1.TrainingService"
_HANDLED = "driftloop_grpc_server_handled_total"


class Fake(training_service_pb2_grpc.TrainingServiceServicer):
    def __init__(self) -> None:
        self.slow_started = asyncio.Event()

    async def StartTraining(self, request, context):
        if request.model == "missing":
            raise errors.NotFound("model 'missing' is not in the spec")
        if request.model == "busy":
            raise errors.Conflict("a run for 'busy' is in progress")
        if request.model == "slow":
            self.slow_started.set()
            await asyncio.sleep(3)
        if request.model == "bug":
            raise KeyError("oops")
        return training_service_pb2.StartTrainingResponse(run_id="r1", accepted=True)

    async def GetRun(self, request, context):
        return run_pb2.Run(run_id=request.run_id)


async def _server(**overrides) -> GrpcServer:
    settings = GrpcSettings(port=free_port(), **overrides)
    server = GrpcServer(settings, default_port=0)
    server.fake = Fake()
    server.add(
        training_service_pb2_grpc.add_TrainingServiceServicer_to_server, server.fake, SERVICE
    )
    await server.start()
    return server


async def test_health_follows_the_lifecycle_and_reflection_lists_services():
    server = await _server()
    try:
        async with channel(f"127.0.0.1:{server.port}") as ch:
            health = health_pb2_grpc.HealthStub(ch)
            before = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE))
            await server.set_serving(True)
            after = await health.Check(health_pb2.HealthCheckRequest())
            stub = reflection_pb2_grpc.ServerReflectionStub(ch)
            replies = stub.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")])
            )
            names = [s.name async for r in replies for s in r.list_services_response.service]
    finally:
        await server.stop()
    assert before.status == health_pb2.HealthCheckResponse.NOT_SERVING
    assert after.status == health_pb2.HealthCheckResponse.SERVING
    assert SERVICE in names
    assert "grpc.health.v1.Health" in names


@pytest.mark.parametrize(
    ("model", "code", "text"),
    [
        ("missing", grpc.StatusCode.NOT_FOUND, "model 'missing' is not in the spec"),
        ("busy", grpc.StatusCode.ABORTED, "a run for 'busy' is in progress"),
        ("bug", grpc.StatusCode.INTERNAL, "internal error: KeyError"),
    ],
)
async def test_domain_errors_map_to_status_codes(model, code, text):
    server = await _server()
    try:
        async with channel(f"127.0.0.1:{server.port}") as ch:
            stub = training_service_pb2_grpc.TrainingServiceStub(ch)
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.StartTraining(training_service_pb2.StartTrainingRequest(model=model))
    finally:
        await server.stop()
    assert err.value.code() == code
    assert err.value.details() == text


async def test_default_deadline_applies_when_the_client_sets_none():
    server = await _server(default_deadline_s=0.2)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as ch:
            stub = training_service_pb2_grpc.TrainingServiceStub(ch)
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.StartTraining(training_service_pb2.StartTrainingRequest(model="slow"))
    finally:
        await server.stop()
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


async def test_bearer_token_guards_writes_but_not_reads():
    server = await _server(auth_token=SecretStr("s3cret"))
    address = f"127.0.0.1:{server.port}"
    request = training_service_pb2.StartTrainingRequest(model="m")
    try:
        async with (
            channel(address) as anonymous,
            channel(address, token="wrong") as wrong,
            channel(address, token="s3cret") as good,
        ):
            with pytest.raises(grpc.aio.AioRpcError) as no_token:
                await training_service_pb2_grpc.TrainingServiceStub(anonymous).StartTraining(
                    request
                )
            with pytest.raises(grpc.aio.AioRpcError) as bad_token:
                await training_service_pb2_grpc.TrainingServiceStub(wrong).StartTraining(request)
            ok = await training_service_pb2_grpc.TrainingServiceStub(good).StartTraining(request)
            read = await training_service_pb2_grpc.TrainingServiceStub(anonymous).GetRun(
                training_service_pb2.GetRunRequest(run_id="r9")
            )
    finally:
        await server.stop()
    assert no_token.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert bad_token.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert ok.accepted
    assert read.run_id == "r9"


async def test_auth_reads_guards_reads_and_streams_too():
    server = await _server(auth_token=SecretStr("s3cret"), auth_reads=True)
    address = f"127.0.0.1:{server.port}"
    get = training_service_pb2.GetRunRequest(run_id="r9")
    listing = reflection_pb2.ServerReflectionRequest(list_services="")
    # (The channel helper adds the token to unary-response calls only.)
    try:
        async with channel(address) as anonymous, channel(address, token="s3cret") as good:
            with pytest.raises(grpc.aio.AioRpcError) as read:
                await training_service_pb2_grpc.TrainingServiceStub(anonymous).GetRun(get)
            with pytest.raises(grpc.aio.AioRpcError) as stream:
                async for _ in reflection_pb2_grpc.ServerReflectionStub(
                    anonymous
                ).ServerReflectionInfo(iter([listing])):
                    pass
            ok = await training_service_pb2_grpc.TrainingServiceStub(good).GetRun(get)
            replies = [
                r
                async for r in reflection_pb2_grpc.ServerReflectionStub(good).ServerReflectionInfo(
                    iter([listing]), metadata=(("authorization", "Bearer s3cret"),)
                )
            ]
    finally:
        await server.stop()
    assert read.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert stream.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert ok.run_id == "r9"
    assert SERVICE in {s.name for s in replies[0].list_services_response.service}


async def test_stop_lets_in_flight_calls_finish():
    server = await _server(shutdown_grace_s=10)
    try:
        async with channel(f"127.0.0.1:{server.port}", deadline_s=30) as ch:
            stub = training_service_pb2_grpc.TrainingServiceStub(ch)
            call = asyncio.ensure_future(
                stub.StartTraining(training_service_pb2.StartTrainingRequest(model="slow"))
            )
            await server.fake.slow_started.wait()  # the call is in flight
            await server.stop()
            reply = await call
    finally:
        await server.stop()
    assert reply.accepted


async def test_unary_calls_are_counted_by_code_and_timed():
    from prometheus_client import REGISTRY

    method = f"/{SERVICE}/StartTraining"

    def sample(name, **labels):
        return REGISTRY.get_sample_value(name, {"method": method, **labels}) or 0.0

    ok, not_found = sample(_HANDLED, code="OK"), sample(_HANDLED, code="NOT_FOUND")
    timed = sample("driftloop_grpc_server_handling_seconds_count")
    server = await _server()
    try:
        async with channel(f"127.0.0.1:{server.port}") as ch:
            stub = training_service_pb2_grpc.TrainingServiceStub(ch)
            await stub.StartTraining(training_service_pb2.StartTrainingRequest(model="m"))
            with pytest.raises(grpc.aio.AioRpcError):
                await stub.StartTraining(training_service_pb2.StartTrainingRequest(model="missing"))
    finally:
        await server.stop()
    assert sample(_HANDLED, code="OK") == ok + 1
    assert sample(_HANDLED, code="NOT_FOUND") == not_found + 1
    assert sample("driftloop_grpc_server_handling_seconds_count") == timed + 2
