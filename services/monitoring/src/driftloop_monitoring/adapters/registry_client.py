"""Best-effort start-up read of the registry's current aliases, for models
the catalog does not know yet (the ``driftloop.models`` topic stays the
source of truth)."""

from __future__ import annotations

import structlog

from driftloop.platform.grpc_client import channel
from driftloop.registry.v1 import registry_service_pb2 as pb
from driftloop.registry.v1 import registry_service_pb2_grpc as pb_grpc
from driftloop_monitoring.codec import converters
from driftloop_monitoring.service.monitor import Monitor

log = structlog.get_logger(__name__)


async def bootstrap_aliases(monitor: Monitor, address: str, timeout_s: float = 3.0) -> None:
    try:
        async with channel(address, deadline_s=timeout_s) as ch:
            stub = pb_grpc.RegistryServiceStub(ch)
            listing = await stub.ListModels(pb.ListModelsRequest())
            for summary in listing.models:
                if summary.name in monitor.models:
                    continue
                for alias in ("champion", "candidate"):
                    version = summary.aliases.get(alias, 0)
                    if not version:
                        continue
                    v = await stub.GetModelVersion(
                        pb.GetModelVersionRequest(model=summary.name, version=version)
                    )
                    monitor.on_version(converters.version_from(v))
                    monitor.on_alias(summary.name, alias, version, 0, event_id=f"bootstrap-{alias}")
        monitor.flush()
        log.info("registry.bootstrapped", models=len(monitor.models))
    except Exception as exc:  # the registry may not be up yet; the topic will tell
        log.info("registry.bootstrap_skipped", error=repr(exc))
