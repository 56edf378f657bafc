"""The registry, reached through its gRPC API (``RegistryService``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from driftloop.platform.errors import Conflict, NotFound, Unavailable
from driftloop.platform.grpc_client import channel
from driftloop.registry.v1 import registry_service_pb2 as pb
from driftloop.registry.v1 import registry_service_pb2_grpc
from driftloop_training.codec import converters
from driftloop_training.service.ports import Registration, VersionInfo


class GrpcRegistry:
    def __init__(
        self, address: str, *, token: str = "", deadline_s: float = 60.0, chunk_bytes: int = 1 << 20
    ) -> None:
        self._channel = channel(address, deadline_s=deadline_s, token=token)
        self._stub = registry_service_pb2_grpc.RegistryServiceStub(self._channel)
        self._chunk = chunk_bytes

    async def close(self) -> None:
        await self._channel.close()

    async def aliased(self, model: str, alias: str) -> VersionInfo | None:
        try:
            v = await self._stub.GetModelVersion(
                pb.GetModelVersionRequest(model=model, alias=alias)
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise _error(exc) from None
        return converters.version_from(v)

    async def versions(self, model: str) -> list[VersionInfo]:
        try:
            reply = await self._stub.ListModelVersions(pb.ListModelVersionsRequest(model=model))
        except grpc.aio.AioRpcError as exc:
            raise _error(exc) from None
        return [converters.version_from(v) for v in reply.versions]

    async def download(self, model: str, version: int) -> bytes:
        parts = []
        try:
            call = self._stub.DownloadArtifact(
                pb.DownloadArtifactRequest(model=model, version=version)
            )
            async for chunk in call:
                parts.append(chunk.data)
        except grpc.aio.AioRpcError as exc:
            raise _error(exc) from None
        return b"".join(parts)

    async def register(self, r: Registration) -> int:
        metadata = converters.registration_to_proto(r)

        async def parts() -> AsyncIterator[pb.RegisterModelVersionRequest]:
            yield pb.RegisterModelVersionRequest(metadata=metadata)
            for i in range(0, len(r.artifact), self._chunk):
                yield pb.RegisterModelVersionRequest(chunk=r.artifact[i : i + self._chunk])

        try:
            version = await self._stub.RegisterModelVersion(
                parts(), metadata=_correlation(r.correlation_id)
            )
        except grpc.aio.AioRpcError as exc:
            raise _error(exc) from None
        return version.version

    async def set_alias(
        self,
        model: str,
        alias: str,
        version: int,
        expected: int,
        reason: str,
        caused_by: str,
        correlation_id: str = "",
    ) -> None:
        request = pb.SetAliasRequest(
            model=model,
            alias=alias,
            version=version,
            expected_version=expected,
            reason=reason,
            caused_by_event_id=caused_by,
        )
        try:
            await self._stub.SetAlias(request, metadata=_correlation(correlation_id))
        except grpc.aio.AioRpcError as exc:
            raise _error(exc) from None


def _correlation(correlation_id: str) -> tuple[tuple[str, str], ...]:
    # The registry API has no correlation field; the chain's id (the drift id)
    # travels as call metadata so the registry can keep it on its events.
    return (("x-correlation-id", correlation_id),) if correlation_id else ()


def _error(exc: grpc.aio.AioRpcError) -> Exception:
    text = f"registry: {exc.code().name}: {exc.details()}"
    if exc.code() in (grpc.StatusCode.ABORTED, grpc.StatusCode.FAILED_PRECONDITION):
        return Conflict(text)
    if exc.code() == grpc.StatusCode.NOT_FOUND:
        return NotFound(text)
    return Unavailable(text)
