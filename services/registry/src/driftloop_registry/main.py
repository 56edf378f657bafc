"""Composition root of the registry service: builds settings, adapters and use
cases, and runs them in one lifecycle."""

from __future__ import annotations

import os
from collections.abc import Callable

import structlog

from driftloop.monitoring.v1 import events_pb2 as monitoring_events
from driftloop.platform import topics
from driftloop.platform.bus import subscribe
from driftloop.platform.runtime import ServiceRuntime, run_main
from driftloop.platform.settings import load_settings
from driftloop.registry.v1 import registry_service_pb2_grpc
from driftloop_registry.adapters.artifact_store import LocalArtifactStore
from driftloop_registry.adapters.db_artifact_store import DatabaseArtifactStore
from driftloop_registry.adapters.event_sink import BusEventSink
from driftloop_registry.adapters.onnx_vetter import ProcessVetter
from driftloop_registry.adapters.sql_connections import open_database
from driftloop_registry.adapters.sql_repository import SqlRepository
from driftloop_registry.entrypoints.grpc_servicer import RegistryServicer
from driftloop_registry.entrypoints.subscribers import on_rollout_decided
from driftloop_registry.service.outbox import OutboxRelay
from driftloop_registry.service.ports import ArtifactStore
from driftloop_registry.service.registry import Limits, Registry
from driftloop_registry.settings import RegistrySettings

log = structlog.get_logger(__name__)


def build(settings: RegistrySettings | None = None) -> ServiceRuntime:
    settings = settings or load_settings(RegistrySettings)
    runtime = ServiceRuntime("registry", settings)
    db = open_database(settings.database_url, settings.data_dir, settings.database_schema)
    repo = SqlRepository(db)
    # PostgreSQL: artifacts in the database every replica shares (local files
    # a cache); SQLite (embedded): the local files are the store.
    files = LocalArtifactStore(settings.data_dir / "artifacts")
    store: ArtifactStore = DatabaseArtifactStore(db, files) if db.name == "postgresql" else files
    relay = OutboxRelay(repo, BusEventSink(runtime.bus), poll_s=settings.outbox_poll_s)
    vetter = ProcessVetter(
        settings.vet_memory_mb, settings.vet_cpu_s, settings.vet_timeout_s, settings.vet_concurrency
    )
    registry = Registry(
        repo,
        store,
        vetter,
        Limits(max_artifact_bytes=settings.max_artifact_mb * 1024 * 1024),
        on_commit=_fault(settings.fault_crash_after_commits, relay.notify),
    )
    runtime.on_start(repo.migrate)
    runtime.on_start(vetter.start)
    runtime.on_stop(repo.close)
    runtime.on_stop(vetter.close)
    runtime.background(relay.run)
    # Ready while the database answers: every RPC reads or writes it. (Kafka
    # only delays the outbox's events, which wait in the database.)
    runtime.ready_when("database", repo.ping)
    runtime.grpc.add(
        registry_service_pb2_grpc.add_RegistryServiceServicer_to_server,
        RegistryServicer(registry, settings.download_chunk_kb * 1024),
        "driftloop.registry.v1.RegistryService",
    )
    subscribe(
        runtime.broker,
        runtime.bus,
        topics.ROLLOUTS.name,
        monitoring_events.RolloutDecided,
        on_rollout_decided(registry),
        group=settings.rollouts_group,
        ignore_types=[t for t in topics.ROLLOUTS.carries if not t.endswith(".RolloutDecided")],
    )
    return runtime


def _fault(crash_after: int, notify: Callable[[], None]) -> Callable[[], None]:
    """``notify``, or when fault injection is on, ``notify`` that kills the
    process right after the ``crash_after``-th commit, before its event is out."""
    if not crash_after:
        return notify
    commits = 0

    def after_commit() -> None:
        nonlocal commits
        commits += 1
        if commits >= crash_after:
            log.warning("fault.crash_after_commit", commits=commits)
            os._exit(99)
        notify()

    return after_commit


def main() -> None:
    run_main(build)
