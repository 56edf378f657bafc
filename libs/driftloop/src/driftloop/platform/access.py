"""Who may call which RPC, read from the protos: every RPC of every driftloop
service carries ``option (driftloop.common.v1.access) = ACCESS_READ`` or
``ACCESS_WRITE`` (proto/driftloop/common/v1/access.proto). The gRPC edge asks
the token of writes (and of reads when ``auth_reads`` is set)."""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pool

from driftloop.common.v1 import access_pb2

READ = access_pb2.ACCESS_READ
WRITE = access_pb2.ACCESS_WRITE

#: Services whose protos are not ours, so carry no option; each only reads
#: (health, reflection and the Open Inference Protocol's data plane).
FOREIGN_READS = frozenset(
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "inference.GRPCInferenceService",
    }
)


class MissingAccess(ValueError):
    """An RPC says neither ACCESS_READ nor ACCESS_WRITE."""


def access_table(service: str) -> dict[str, int]:
    """``/package.Service/Method`` -> READ or WRITE for every RPC of a
    service (its generated module must be imported). Raises
    :class:`MissingAccess` naming an RPC without the option, so a new RPC
    cannot start out open by accident."""
    descriptor = descriptor_pool.Default().FindServiceByName(service)
    table: dict[str, int] = {}
    for method in descriptor.methods:
        if service in FOREIGN_READS:
            access = READ
        else:
            # Any: the generated stub types the extension as a plain FieldDescriptor.
            options: Any = method.GetOptions()
            access = options.Extensions[access_pb2.access]
        if access not in (READ, WRITE):
            raise MissingAccess(
                f"rpc {service}.{method.name} has no (driftloop.common.v1.access) option"
            )
        table[f"/{service}/{method.name}"] = access
    return table
