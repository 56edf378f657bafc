"""Composition root of the feature service: builds settings, adapters and use
cases, and runs them in one lifecycle."""

from __future__ import annotations

import structlog

from driftloop.feature.v1 import feature_service_pb2_grpc
from driftloop.platform import topics
from driftloop.platform.runtime import ServiceRuntime, run_main
from driftloop.platform.settings import load_settings
from driftloop.platform.spec import load_spec
from driftloop_feature.adapters.checkpoints import SqliteCheckpointStore
from driftloop_feature.adapters.kafka import KafkaBatchPublisher, KafkaReplayer
from driftloop_feature.adapters.memory_store import InMemoryOnlineStore
from driftloop_feature.domain.views import CompiledView, compile_spec
from driftloop_feature.entrypoints import subscribers
from driftloop_feature.entrypoints.servicer import FeatureServicer
from driftloop_feature.service.lookup import OnlineFeatures
from driftloop_feature.service.ports import OnlineStore
from driftloop_feature.service.processor import FeatureProcessor
from driftloop_feature.settings import FeatureSettings

log = structlog.get_logger(__name__)


def build() -> ServiceRuntime:
    settings = load_settings(FeatureSettings)
    runtime = ServiceRuntime("feature", settings)
    cfg = settings.feature
    views: list[CompiledView] = (
        compile_spec(load_spec(settings.spec), cfg.max_entities) if settings.spec else []
    )
    if not views:
        log.warning("feature.no_views", spec=str(settings.spec))
    store: OnlineStore
    shared = cfg.online_store == "redis" or (
        cfg.online_store == "auto" and bool(settings.replica.id)
    )
    if shared:
        # redis' client costs a few tenths of a second to import: only when used.
        from driftloop_feature.adapters.redis_store import RedisOnlineStore

        store = redis_store = RedisOnlineStore(
            cfg.redis_url, cfg.redis_prefix, cfg.redis_cache_entries
        )
        runtime.background(redis_store.run_cache)
        # Ready while Redis answers: every lookup reads it. (The in-process
        # store is always there; Kafka only delays new vectors.)
        runtime.ready_when("online_store", redis_store.ping)
    else:
        store = InMemoryOnlineStore()
    topic = topics.RECORDS_VALIDATED.name
    checkpoints = SqliteCheckpointStore(
        settings.data_dir / "feature" / "checkpoints.sqlite", topic, cfg.group, views
    )
    publisher = KafkaBatchPublisher(settings.kafka, "feature")
    processor = FeatureProcessor(
        views,
        publisher,
        store,
        checkpoints,
        KafkaReplayer(settings.kafka, topic),
        checkpoint_interval_s=cfg.checkpoint_interval_s,
    )
    subscribers.register(runtime.broker, runtime.bus, processor, group=cfg.group, batch=cfg.batch)
    runtime.grpc.add(
        feature_service_pb2_grpc.add_FeatureServiceServicer_to_server,
        FeatureServicer(OnlineFeatures(views, store, cfg.max_lookup_entities)),
        "driftloop.feature.v1.FeatureService",
    )

    async def start() -> None:
        processor.log_id = runtime.bus.cluster_id
        await publisher.start()

    async def stop() -> None:
        await processor.checkpoint()
        checkpoints.close()
        await store.close()
        await publisher.stop()

    runtime.on_start(start)
    runtime.on_stop(stop)
    log.info("feature.views", views=[f"{v.name}@v{v.version} width={v.width}" for v in views])
    return runtime


def main() -> None:
    run_main(build)
