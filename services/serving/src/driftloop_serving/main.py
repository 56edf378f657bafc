"""Composition root of the serving service: builds settings, adapters and use
cases, and runs them in one lifecycle."""

from __future__ import annotations

import asyncio
import gc

import structlog

from driftloop.feature.v1.events_pb2 import FeatureVectorComputed
from driftloop.platform import topics
from driftloop.platform.bus import subscribe
from driftloop.platform.grpc_client import channel
from driftloop.platform.runtime import ServiceRuntime, run_main
from driftloop.platform.settings import load_settings
from driftloop.registry.v1.events_pb2 import AliasChanged
from driftloop.serving.v1 import admin_service_pb2_grpc
from driftloop_serving.adapters.events import BusEvents
from driftloop_serving.adapters.features import GrpcFeatures
from driftloop_serving.adapters.onnx_runner import OnnxLoader
from driftloop_serving.adapters.prediction_publisher import PredictionPublisher
from driftloop_serving.adapters.registry import GrpcRegistry
from driftloop_serving.adapters.rollout_log import read_rollouts
from driftloop_serving.domain.models import Catalog
from driftloop_serving.domain.routing import Mode, TrafficSplit
from driftloop_serving.entrypoints.admin import AdminServicer
from driftloop_serving.entrypoints.oip import InferenceServicer
from driftloop_serving.entrypoints.subscribers import Subscribers
from driftloop_serving.service.admin import Admin
from driftloop_serving.service.entities import EntityInputs
from driftloop_serving.service.inference import Predictor
from driftloop_serving.service.lifecycle import Lifecycle
from driftloop_serving.service.predictions import PredictionSink
from driftloop_serving.service.rollouts import Rollouts
from driftloop_serving.service.stream import StreamScorer
from driftloop_serving.settings import ServingSettings
from driftloop_serving.workers import run_workers
from inference import grpc_predict_v2_pb2_grpc

log = structlog.get_logger(__name__)


def build(settings: ServingSettings | None = None) -> ServiceRuntime:
    settings = settings or load_settings(ServingSettings)
    runtime = ServiceRuntime("serving", settings)
    events = BusEvents(runtime.bus, replica=settings.instance)
    catalog = Catalog(
        TrafficSplit(share=settings.default_candidate_share, mode=Mode(settings.default_mode))
    )
    publisher = PredictionPublisher(settings.kafka)
    sink = PredictionSink(
        publisher.publish,
        capacity=settings.prediction_buffer,
        batch_size=settings.prediction_batch,
        publish_timeout_s=settings.publish_timeout_s,
        linger_s=settings.prediction_linger_s,
    )
    token = settings.grpc.auth_token.get_secret_value()
    registry_channel = channel(settings.address_of("registry"), token=token)
    feature_channel = channel(settings.address_of("feature"), token=token)
    predictor = Predictor(
        catalog,
        sink,
        max_rows=settings.max_batch_rows,
        offload_rows=settings.offload_rows,
        entities=EntityInputs(
            GrpcFeatures(feature_channel, wait_s=settings.feature_wait_s),
            settings.max_vector_age_s,
        ),
    )
    lifecycle = Lifecycle(
        catalog,
        GrpcRegistry(registry_channel, settings.download_timeout_s),
        OnnxLoader(settings.intra_op_threads, settings.inter_op_threads),
        events,
    )
    rollouts = Rollouts(catalog)
    subs = Subscribers(lifecycle, rollouts, StreamScorer(catalog, predictor, sink))
    subscribe_all(runtime, settings, subs)
    serve(runtime, predictor, Admin(catalog, rollouts, events))
    runtime.gate_readiness()
    runtime.background(lambda: keep_in_sync(runtime, lifecycle, subs, settings))
    runtime.background(sink.run)

    async def stop() -> None:
        await sink.flush()
        await publisher.stop()
        await registry_channel.close()
        await feature_channel.close()

    runtime.on_start(publisher.start)
    runtime.on_stop(stop)
    return runtime


def subscribe_all(runtime: ServiceRuntime, settings: ServingSettings, subs: Subscribers) -> None:
    """Alias changes, rollout events and pins on this replica's own groups;
    the feature stream on the shared group when stream scoring is on."""
    own_group = f"driftloop-serving-{settings.instance}"
    # Every replica must see every alias change, rollout step and pin: its own
    # groups. Alias changes from the latest offset (the registry supplies the
    # state before). Rollouts from the earliest offset not yet committed: with
    # the read-back at start (recover_rollouts) nothing published while the
    # group joins is missed, and the events' positions keep the newest state.
    # Other event types on these topics are skipped by the bus.
    subscribe(
        runtime.broker,
        runtime.bus,
        topics.MODELS.name,
        AliasChanged,
        subs.on_alias_changed,
        group=own_group,
        from_beginning=False,
    )
    for event_type, handler in subs.rollout_handlers.items():
        subscribe(
            runtime.broker,
            runtime.bus,
            topics.ROLLOUTS.name,
            event_type,
            handler,
            group=f"{own_group}-rollouts",
        )
    if settings.stream_scoring:
        subscribe(
            runtime.broker,
            runtime.bus,
            topics.FEATURES.name,
            FeatureVectorComputed,
            subs.on_feature_vector,
            group=settings.stream_group,
        )


def serve(runtime: ServiceRuntime, predictor: Predictor, admin: Admin) -> None:
    """The two gRPC services: OIP inference and the admin API."""
    runtime.grpc.add(
        grpc_predict_v2_pb2_grpc.add_GRPCInferenceServiceServicer_to_server,
        InferenceServicer(predictor),
        "inference.GRPCInferenceService",
    )
    runtime.grpc.add(
        admin_service_pb2_grpc.add_ServingAdminServiceServicer_to_server,
        AdminServicer(admin),
        "driftloop.serving.v1.ServingAdminService",
    )


async def recover_rollouts(settings: ServingSettings, subs: Subscribers) -> None:
    """The rollout and pin in force (share, mode) before ready: a replica
    started mid-rollout, or while ops pin a split, splits traffic as the
    others do from its first request."""
    while True:
        try:
            events = await read_rollouts(settings.kafka, subs.rollout_handlers)
            break
        except Exception as exc:
            log.warning(
                "rollouts.read_failed", retry_in_s=settings.registry_retry_s, error=repr(exc)
            )
            await asyncio.sleep(settings.registry_retry_s)
    await subs.recover_rollouts(events)
    log.info("rollouts.recovered", events=len(events))


async def keep_in_sync(
    runtime: ServiceRuntime, lifecycle: Lifecycle, subs: Subscribers, settings: ServingSettings
) -> None:
    """Read the rollouts back and load what the registry names, then report
    ready, then reconcile forever."""
    # Ready (health `driftloop.ready`) only once the rollouts in force are
    # read back and every champion the registry names is loaded: a new
    # replica takes no traffic before.
    await recover_rollouts(settings, subs)
    await lifecycle.reconcile_until_done(settings.registry_retry_s)
    await runtime.grpc.set_ready(lifecycle.ready)
    # Everything built so far lives as long as the process: keep it out of
    # the cyclic GC, whose full passes would otherwise walk it again and
    # again under load (a measurable share of CPU per request).
    gc.collect()
    gc.freeze()
    while True:
        await asyncio.sleep(settings.reconcile_interval_s)
        try:
            await lifecycle.reconcile()
        except Exception as exc:
            log.warning("registry.reconcile_failed", error=repr(exc))
        await runtime.grpc.set_ready(lifecycle.ready)


def main() -> None:
    settings = load_settings(ServingSettings)
    if settings.serving_workers > 1:
        raise SystemExit(run_workers(settings))
    run_main(build)
