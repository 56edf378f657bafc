"""Taken ports, found before a start and recognised in a log afterwards,
named with the setting that moves them."""

from __future__ import annotations

import re
import socket

from driftloop.platform.ports import REPLICA_PORT_STRIDE, SERVICES

_IN_USE = re.compile(r"address already in use|addrinuse|errno 98|failed to bind", re.IGNORECASE)


def _taken(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


_MAX_PORT = 65535


def replica_shift(port_offset: int, replica: int) -> int:
    """How far replica ``replica``'s ports sit from the service's defaults."""
    return port_offset + replica * REPLICA_PORT_STRIDE


def service_port_problem(name: str, port_offset: int, replicas: int = 1) -> str | None:
    """Why a service (each of its replicas) cannot listen where it would, or None."""
    info = SERVICES[name]
    ports = [
        (kind, port + replica_shift(port_offset, r))
        for r in range(replicas)
        for kind, port in (("gRPC", info.grpc_port), ("metrics", info.metrics_port))
    ]
    beyond = [port for _, port in ports if port > _MAX_PORT]
    if beyond:
        return (
            f"{name}: port {max(beyond)} is beyond {_MAX_PORT} "
            f"(DRIFTLOOP_PORT_OFFSET {port_offset}, {replicas} replicas, "
            f"{REPLICA_PORT_STRIDE} ports apart); use a smaller DRIFTLOOP_PORT_OFFSET"
        )
    taken = [f"{kind} port {port}" for kind, port in ports if _taken(port)]
    if not taken:
        return None
    return (
        f"{name}: {' and '.join(taken)} already in use (another driftloop?); "
        f"DRIFTLOOP_PORT_OFFSET (now {port_offset}) moves every service port"
    )


def broker_port_problem(port: int) -> str | None:
    if not _taken(port):
        return None
    return (
        f"embedded broker: port {port} already in use (another driftloop?); "
        "DRIFTLOOP_KAFKA_EMBEDDED_PORT moves it, DRIFTLOOP_KAFKA_BOOTSTRAP uses a running Kafka"
    )


def taken_port_hint(log: str, service: str | None, port_offset: int) -> str | None:
    """The likely cause when a log says a port was taken, or None."""
    if not _IN_USE.search(log):
        return None
    if service is None:
        return "its port is taken; DRIFTLOOP_KAFKA_EMBEDDED_PORT moves the embedded broker"
    return (
        f"a port of {service} is taken; DRIFTLOOP_PORT_OFFSET (now {port_offset}) "
        "moves every service port"
    )
