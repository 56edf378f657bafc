"""Where each service listens by default on one machine (the embedded platform)."""

from __future__ import annotations

from dataclasses import dataclass

#: Replica k (k >= 1) of a service (``driftloop up --replicas``) listens on
#: its default ports + k * this.
REPLICA_PORT_STRIDE = 1000


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    module: str
    grpc_port: int
    metrics_port: int


SERVICES: dict[str, ServiceInfo] = {
    s.name: s
    for s in (
        ServiceInfo("registry", "driftloop_registry", 50054, 9104),
        ServiceInfo("ingestion", "driftloop_ingestion", 50051, 9101),
        ServiceInfo("feature", "driftloop_feature", 50052, 9102),
        ServiceInfo("training", "driftloop_training", 50053, 9103),
        ServiceInfo("serving", "driftloop_serving", 50055, 9105),
        ServiceInfo("monitoring", "driftloop_monitoring", 50056, 9106),
    )
}


def address(service: str, port_offset: int = 0) -> str:
    """Default ``host:port`` of a service's gRPC server."""
    return f"127.0.0.1:{SERVICES[service].grpc_port + port_offset}"
