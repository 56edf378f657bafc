"""A training core wired to a fake registry on an in-process gRPC server and
the real trainer worker, with the real servicer on an in-process server."""

from __future__ import annotations

import grpc
import pytest
from training_fakes import CollectingEvents, FakeRegistry, make_spec

from driftloop.platform.grpc_client import channel
from driftloop.platform.grpc_server import GrpcServer
from driftloop.platform.settings import GrpcSettings
from driftloop.platform.testing import free_port
from driftloop.registry.v1 import registry_service_pb2_grpc
from driftloop.training.v1 import training_service_pb2_grpc
from driftloop_training.adapters.onnx_scorer import OnnxScorer
from driftloop_training.adapters.registry_client import GrpcRegistry
from driftloop_training.adapters.sqlite_store import SqliteStore
from driftloop_training.adapters.worker import ProcessTrainer
from driftloop_training.entrypoints.servicer import TrainingServicer
from driftloop_training.service.dataset import Dataset
from driftloop_training.service.runs import Runs
from driftloop_training.service.triggers import Triggers
from driftloop_training.settings import TrainingSection


class Harness:
    def __init__(self, tmp_path, models: str, **settings) -> None:
        self.tmp_path = tmp_path
        self.spec = make_spec(models)
        self.settings = TrainingSection(poll_s=0.05, label_wait_s=0, **settings)
        self.fake = FakeRegistry()
        self.events = CollectingEvents()
        self.store = SqliteStore(tmp_path / "training")

    async def start(self) -> Harness:
        self.registry_server = grpc.aio.server()
        registry_service_pb2_grpc.add_RegistryServiceServicer_to_server(
            self.fake, self.registry_server
        )
        port = self.registry_server.add_insecure_port("127.0.0.1:0")
        await self.registry_server.start()
        self.registry = GrpcRegistry(f"127.0.0.1:{port}")
        self.runs = Runs(
            self.spec,
            self.store,
            self.registry,
            self.events,
            ProcessTrainer(self.tmp_path / "jobs"),
            OnnxScorer(),
            self.settings,
        )
        self.dataset = Dataset(self.spec, self.store, self.settings)
        self.triggers = Triggers(self.runs, self.dataset)
        self.server = GrpcServer(GrpcSettings(port=free_port()), 0)
        self.server.add(
            training_service_pb2_grpc.add_TrainingServiceServicer_to_server,
            TrainingServicer(self.runs),
            "driftloop.training.v1.TrainingService",
        )
        await self.server.start()
        self.channel = channel(f"127.0.0.1:{self.server.port}")
        self.client = training_service_pb2_grpc.TrainingServiceStub(self.channel)
        return self

    async def stop(self) -> None:
        await self.runs.stop()
        await self.channel.close()
        await self.server.stop()
        await self.registry.close()
        await self.registry_server.stop(0)
        self.store.close()


@pytest.fixture
async def harness(tmp_path):
    made: list[Harness] = []

    async def make(models: str, **settings) -> Harness:
        h = await Harness(tmp_path / f"h{len(made)}", models, **settings).start()
        made.append(h)
        return h

    yield make
    for h in made:
        await h.stop()
