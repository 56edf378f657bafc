"""Composition root of the monitoring service: builds settings, adapters and
use cases, and runs them in one lifecycle."""

from __future__ import annotations

import asyncio
import importlib

import structlog

from driftloop.monitoring.v1.monitoring_service_pb2_grpc import (
    add_MonitoringServiceServicer_to_server,
)
from driftloop.platform.leases import Leases
from driftloop.platform.runtime import ServiceRuntime, run_main
from driftloop.platform.settings import load_settings
from driftloop.platform.spec import load_spec
from driftloop_monitoring.adapters.prometheus import PrometheusMetrics
from driftloop_monitoring.adapters.publisher import Publisher
from driftloop_monitoring.adapters.registry_client import bootstrap_aliases
from driftloop_monitoring.adapters.sqlite_store import SqliteStore
from driftloop_monitoring.entrypoints import subscribers
from driftloop_monitoring.entrypoints.servicer import MonitoringServicer
from driftloop_monitoring.service.monitor import Monitor
from driftloop_monitoring.service.ownership import Ownership
from driftloop_monitoring.service.policies import Policies
from driftloop_monitoring.settings import MonitoringSettings

log = structlog.get_logger(__name__)


def build(settings: MonitoringSettings | None = None) -> ServiceRuntime:
    settings = settings or load_settings(MonitoringSettings)
    runtime = ServiceRuntime("monitoring", settings)
    spec = load_spec(settings.spec) if settings.spec else None
    policies = Policies(
        spec,
        min_predictions=settings.rollout_min_predictions,
        max_prediction_psi=settings.rollout_max_prediction_psi,
    )
    # Every replica keeps every model's state (its own copy, from groups of
    # its own); a lease per model says which one announces its facts.
    store = SqliteStore(settings.local_dir / settings.state_db)
    monitor = Monitor(
        store,
        policies,
        metrics=PrometheusMetrics(),
        quality_window=settings.quality_window,
        recent_drift_kept=settings.recent_drift_kept,
    )
    ownership = Ownership(
        Leases.of(settings, "monitoring"),
        lambda: [*monitor.models, *(m.name for m in (spec.models if spec else []))],
    )
    publisher = Publisher(runtime.bus, monitor, ownership)
    replica = settings.replica.id
    group = f"{settings.consumer_group}-{replica}" if replica else settings.consumer_group
    subscribers.register(runtime.broker, runtime.bus, monitor, publisher, group)
    runtime.grpc.add(
        add_MonitoringServiceServicer_to_server,
        MonitoringServicer(monitor),
        "driftloop.monitoring.v1.MonitoringService",
    )

    async def bootstrap() -> None:
        if settings.registry_bootstrap:
            await bootstrap_aliases(monitor, settings.address_of("registry"))

    async def ticker() -> None:
        # Label waits and rollout timeouts run on the wall clock.
        while True:
            await asyncio.sleep(settings.tick_s)
            try:
                await publisher.publish(monitor.tick())
                monitor.flush()
            except Exception as exc:  # a failed publish is retried on the next tick
                log.warning("tick.failed", error=repr(exc))

    async def close() -> None:
        monitor.flush()
        store.close()
        ownership.leases.close()

    async def own() -> None:
        await ownership.run(publisher.on_gained)

    async def load_statistics() -> None:
        # river's detectors and scipy.stats (~2 s of CPU) load in a thread once
        # the service runs: start-up does not wait for them, and the first
        # model's handler does not import them on the event loop.
        for name in ("river.drift", "scipy.stats"):
            await asyncio.to_thread(importlib.import_module, name)

    runtime.on_start(bootstrap)
    runtime.on_start(ownership.refresh)  # before the first event is read
    runtime.background(own)
    runtime.background(ticker)
    runtime.background(load_statistics)
    runtime.on_stop(close)
    # Ready while the broker answers: predictions, labels and alias changes
    # come from it, and drift and rollout facts go out through it.
    runtime.ready_when_kafka_answers()
    return runtime


def main() -> None:
    run_main(build)
