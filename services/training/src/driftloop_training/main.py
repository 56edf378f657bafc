"""Composition root of the training service: builds settings, adapters and use
cases, and runs them in one lifecycle."""

from __future__ import annotations

import asyncio

import structlog

from driftloop.platform.leases import Leases
from driftloop.platform.readiness import Flag
from driftloop.platform.runtime import ServiceRuntime, run_main
from driftloop.platform.settings import load_settings
from driftloop.platform.spec import Spec, load_spec
from driftloop.training.v1 import training_service_pb2_grpc
from driftloop_training.adapters.onnx_scorer import OnnxScorer
from driftloop_training.adapters.publisher import BusRunEvents
from driftloop_training.adapters.registry_client import GrpcRegistry
from driftloop_training.adapters.sqlite_store import SqliteStore
from driftloop_training.adapters.worker import ProcessTrainer
from driftloop_training.entrypoints import subscribers
from driftloop_training.entrypoints.servicer import TrainingServicer
from driftloop_training.service.dataset import Dataset
from driftloop_training.service.runs import Runs
from driftloop_training.service.single_flight import SingleFlight
from driftloop_training.service.triggers import Triggers
from driftloop_training.settings import TrainingSettings

log = structlog.get_logger(__name__)


def build() -> ServiceRuntime:
    settings = load_settings(TrainingSettings)
    runtime = ServiceRuntime("training", settings)
    cfg = settings.training
    spec = load_spec(settings.spec) if settings.spec else Spec()
    # Each replica keeps a whole offline dataset of its own (it reads every
    # partition of features and labels); runs are single-flight across them.
    store = SqliteStore(settings.local_dir)
    registry = GrpcRegistry(
        settings.address_of("registry"),
        token=settings.grpc.auth_token.get_secret_value(),
        deadline_s=cfg.registry_deadline_s,
        chunk_bytes=cfg.chunk_bytes,
    )
    trainer = ProcessTrainer(settings.local_dir / "jobs", cfg.worker_start_method)
    flight = SingleFlight(Leases.of(settings, "training"))
    runs = Runs(
        spec,
        store,
        registry,
        BusRunEvents(runtime.bus),
        trainer,
        OnnxScorer(),
        cfg,
        flight=flight,
    )
    dataset = Dataset(spec, store, cfg)
    triggers = Triggers(runs, dataset)
    subscribers.register(
        runtime.broker, runtime.bus, dataset, triggers, cfg.group, settings.replica.id
    )
    runtime.grpc.add(
        training_service_pb2_grpc.add_TrainingServiceServicer_to_server,
        TrainingServicer(runs),
        "driftloop.training.v1.TrainingService",
    )

    # Ready once the runs a crash left are settled (GetRun tells the truth),
    # and while the broker answers (its data and triggers come from it).
    recovered = Flag()
    runtime.ready_when("runs_recovered", recovered)
    runtime.ready_when_kafka_answers()

    async def trigger_loop() -> None:
        await runs.recover()
        recovered.set()
        await trainer.warm_up()
        try:
            while True:
                await triggers.tick()
                await asyncio.sleep(cfg.poll_s)
        finally:
            # Cancelled at stop, before the broker closes: runs in flight end
            # as failed (interrupted) and say so on the bus.
            await runs.stop()

    async def close() -> None:
        await registry.close()
        store.close()
        flight.leases.close()

    runtime.background(trigger_loop)
    runtime.on_stop(close)
    log.info("training.configured", models=[m.name for m in spec.models])
    return runtime


def main() -> None:
    run_main(build)
