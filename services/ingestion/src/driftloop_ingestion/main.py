"""Composition root of the ingestion service: builds settings, adapters and use
cases, and runs them in one lifecycle."""

from __future__ import annotations

import structlog

from driftloop.ingestion.v1.ingestion_service_pb2_grpc import add_IngestionServiceServicer_to_server
from driftloop.platform.runtime import ServiceRuntime, run_main
from driftloop.platform.settings import load_settings
from driftloop.platform.spec import load_spec
from driftloop_ingestion.adapters.kafka_publisher import KafkaPublisher
from driftloop_ingestion.adapters.sqlite_store import SqliteSchemaStore
from driftloop_ingestion.adapters.validated_log import recent_records
from driftloop_ingestion.domain.bad_rate import BadRateWatch
from driftloop_ingestion.domain.recent import RecentIds
from driftloop_ingestion.entrypoints.grpc_api import SERVICE, IngestionServicer
from driftloop_ingestion.entrypoints.raw_topic import register_raw_consumers
from driftloop_ingestion.service.catalog import StreamCatalog
from driftloop_ingestion.service.intake import RecordIntake
from driftloop_ingestion.service.labels import LabelIntake
from driftloop_ingestion.settings import IngestionSettings

log = structlog.get_logger(__name__)


def build(settings: IngestionSettings | None = None) -> ServiceRuntime:
    settings = settings or load_settings(IngestionSettings)
    runtime = ServiceRuntime("ingestion", settings)
    store = SqliteSchemaStore(settings.data_dir / "ingestion" / "streams.sqlite")
    catalog = StreamCatalog(
        store,
        max_string_length=settings.max_string_length,
        max_id_length=settings.max_id_length,
    )
    publisher = KafkaPublisher(settings.kafka, runtime.name)
    seen = RecentIds(settings.seen_max_ids, ttl_s=float("inf"))
    dedupe = RecentIds(settings.dedupe_max_ids, settings.dedupe_window_s)
    records = RecordIntake(
        catalog,
        publisher,
        dedupe=dedupe,
        seen=seen,
        watch=BadRateWatch(
            settings.bad_rate_threshold,
            settings.bad_rate_window,
            settings.bad_rate_min_records,
            settings.bad_rate_cooldown_s,
        ),
    )
    labels = LabelIntake(catalog, publisher, seen=seen, max_id_length=settings.max_id_length)

    async def start() -> None:
        window = await recent_records(
            settings.kafka, settings.dedupe_window_s, settings.dedupe_max_ids
        )
        for stream, record_id, at in window:
            dedupe.claim((stream, record_id), at)
            seen.claim((stream, record_id), at)
        log.info("ingestion.dedupe_window_rebuilt", records=len(window))
        await publisher.start()
        catalog.load()
        if settings.spec is not None:
            for declared in load_spec(settings.spec).streams:
                catalog.register(declared)

    async def stop() -> None:
        await publisher.stop()
        store.close()

    runtime.on_start(start)
    runtime.on_stop(stop)
    # Ready while the broker answers: a record is accepted only once published.
    runtime.ready_when_kafka_answers()
    register_raw_consumers(runtime.bus, records, labels, settings)
    servicer = IngestionServicer(records, labels, catalog, settings)
    runtime.grpc.add(add_IngestionServiceServicer_to_server, servicer, SERVICE)
    return runtime


def main() -> None:
    run_main(build)
