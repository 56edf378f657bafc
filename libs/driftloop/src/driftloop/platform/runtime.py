"""One service process's lifecycle: start the metrics endpoint, the service's
own resources, the Kafka broker and the gRPC server; report live, and ready
once (and while) what its job depends on is there; on
SIGTERM or SIGINT stop taking calls, let in-flight calls and event handlers
finish, commit, release resources and exit 0."""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import structlog
from faststream.kafka import KafkaBroker

from driftloop.platform.bus import EventBus, make_broker
from driftloop.platform.grpc_server import GrpcServer
from driftloop.platform.log_identity import cluster_id
from driftloop.platform.logging import configure_logging
from driftloop.platform.metrics import MetricsEndpoint
from driftloop.platform.parent import die_with_parent
from driftloop.platform.ports import SERVICES
from driftloop.platform.readiness import Check, KafkaProbe, watch
from driftloop.platform.settings import ServiceSettings, SettingsError, load_settings

log = structlog.get_logger(__name__)

Hook = Callable[[], Awaitable[object]]


class ServiceRuntime:
    """The shared shell of a service; its composition root fills it in."""

    def __init__(self, name: str, settings: ServiceSettings) -> None:
        info = SERVICES[name]
        configure_logging(name, settings.log)
        self.name = name
        self.settings = settings
        self.broker = make_broker(settings.kafka, client_id=f"driftloop-{name}")
        self.bus = EventBus(self.broker, name, settings.kafka)
        self.grpc = GrpcServer(settings.grpc, info.grpc_port + settings.port_offset)
        self.metrics = MetricsEndpoint(settings.metrics, info.metrics_port + settings.port_offset)
        self._on_start: list[Hook] = []
        self._on_stop: list[Hook] = []
        self._background: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()
        self._readiness_gated = False
        self._checks: dict[str, Check] = {}
        self._kafka_probe: KafkaProbe | None = None

    def on_start(self, hook: Hook) -> None:
        """Run before the broker and gRPC start (open stores, load state);
        ``bus.cluster_id`` is known by then."""
        self._on_start.append(hook)

    def on_stop(self, hook: Hook) -> None:
        """Run after the broker and gRPC stopped (flush, close), in reverse order."""
        self._on_stop.append(hook)

    def background(self, job: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """A coroutine that runs while the service runs and is cancelled at stop."""
        self._background.append(job)

    def gate_readiness(self) -> None:
        """The service reports readiness itself (``grpc.set_ready``) once it
        can do its job; without this, it is ready as soon as it has started."""
        self._readiness_gated = True

    def ready_when(self, name: str, check: Check) -> None:
        """Readiness also needs ``check`` (what the service's job depends on),
        evaluated every ``readiness_interval_s`` while the service runs: it is
        NOT_SERVING while one fails. Not for a service that gates its
        readiness itself (:meth:`gate_readiness`)."""
        self._checks[name] = check

    def ready_when_kafka_answers(self) -> None:
        """Readiness needs the Kafka cluster to answer a metadata request."""
        self._kafka_probe = KafkaProbe(self.settings.kafka, self.settings.readiness_interval_s)
        self.ready_when("kafka", self._kafka_probe)

    def request_stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        self.metrics.start()
        self.bus.cluster_id = await cluster_id(self.settings.kafka)
        for hook in self._on_start:
            await hook()
        await _start_broker(self.broker)
        await self.grpc.start()
        self._tasks = [asyncio.create_task(job()) for job in self._background]
        await self.grpc.set_live(True)
        watcher = None
        if self._checks and not self._readiness_gated:
            checks = watch(self._checks, self.grpc.set_ready, self.settings.readiness_interval_s)
            watcher = asyncio.create_task(checks)
            self._tasks.append(watcher)
        elif not self._readiness_gated:
            await self.grpc.set_ready(True)
        _tune_gc(self.settings.gc_threshold)
        log.info(
            "service.started",
            grpc_port=self.grpc.port,
            metrics_port=self.metrics.port,
            kafka_cluster_id=self.bus.cluster_id,
        )
        await self._stop.wait()
        log.info("service.stopping")
        if watcher is not None:
            watcher.cancel()  # nothing may report ready again from here
        await self.grpc.set_serving(False)
        await self.grpc.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # faststream waits for handlers in flight and commits their offsets.
        await self.broker.stop()
        for hook in reversed(self._on_stop):
            await hook()
        if self._kafka_probe is not None:
            await self._kafka_probe.close()
        self.metrics.stop()
        log.info("service.stopped")


def _tune_gc(threshold: int) -> None:
    """Collect young objects less often, and never again scan what start-up
    allocated (modules, settings, clients): it lives as long as the process."""
    if threshold:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(threshold, older, oldest)
    gc.collect()
    gc.freeze()


async def _start_broker(broker: KafkaBroker) -> None:
    """Like ``broker.start()``, but joins the consumer groups concurrently:
    each join takes seconds, and faststream would wait for them one by one."""
    await broker.connect()
    await asyncio.gather(*(sub.start() for sub in broker.subscribers))
    for pub in broker.publishers:
        await pub.start()
    broker.running = True


def run_main(build: Callable[[], ServiceRuntime]) -> None:
    """Entry point helper: build the runtime inside the loop and run it, on
    the event loop the settings choose."""

    die_with_parent()

    async def _main() -> None:
        await build().run()

    factory = _loop_factory(load_settings(ServiceSettings).event_loop)
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(_main())


def _loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop for "uvloop" (and for "auto" where it is installed);
    None (the standard loop) otherwise."""
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise SettingsError(
                "DRIFTLOOP_EVENT_LOOP=uvloop, but uvloop is not installed"
            ) from None
        return None
    return uvloop.new_event_loop
