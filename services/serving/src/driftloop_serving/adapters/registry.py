"""The registry over gRPC: artifacts in checksummed chunks, versions, aliases."""

from __future__ import annotations

import grpc

from driftloop.platform.errors import NotFound, Unavailable
from driftloop.registry.v1 import registry_service_pb2, registry_service_pb2_grpc
from driftloop_serving.codec.converters import version_info
from driftloop_serving.domain.models import VersionInfo
from driftloop_serving.service.lifecycle import Artifact

_RETRYABLE = (
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
)


def _error(exc: grpc.aio.AioRpcError, what: str) -> Exception:
    if exc.code() in _RETRYABLE:
        return Unavailable(f"registry unavailable ({what}): {exc.details()}")
    if exc.code() == grpc.StatusCode.NOT_FOUND:
        return NotFound(f"{what}: {exc.details()}")
    return RuntimeError(f"registry error ({what}): {exc.code().name} {exc.details()}")


class GrpcRegistry:
    """:class:`~driftloop_serving.service.lifecycle.Registry` over a channel."""

    def __init__(self, channel: grpc.aio.Channel, download_timeout_s: float = 120.0) -> None:
        self._stub = registry_service_pb2_grpc.RegistryServiceStub(channel)
        self._download_timeout = download_timeout_s

    async def download(self, model: str, version: int) -> Artifact:
        what = f"download {model} v{version}"
        parts: list[bytes] = []
        sha256 = ""
        try:
            call = self._stub.DownloadArtifact(
                registry_service_pb2.DownloadArtifactRequest(model=model, version=version),
                timeout=self._download_timeout,
            )
            async for chunk in call:
                sha256 = sha256 or chunk.sha256
                parts.append(chunk.data)
        except grpc.aio.AioRpcError as exc:
            raise _error(exc, what) from None
        return Artifact(b"".join(parts), sha256)

    async def describe(self, model: str, version: int) -> VersionInfo:
        try:
            reply = await self._stub.GetModelVersion(
                registry_service_pb2.GetModelVersionRequest(model=model, version=version)
            )
        except grpc.aio.AioRpcError as exc:
            raise _error(exc, f"describe {model} v{version}") from None
        return version_info(reply)

    async def aliases(self) -> dict[str, dict[str, VersionInfo]]:
        try:
            listed = await self._stub.ListModels(registry_service_pb2.ListModelsRequest())
        except grpc.aio.AioRpcError as exc:
            raise _error(exc, "list models") from None
        out: dict[str, dict[str, VersionInfo]] = {}
        for summary in listed.models:
            for alias in ("champion", "candidate"):
                version = summary.aliases.get(alias, 0)
                if version:
                    info = await self.describe(summary.name, version)
                    out.setdefault(summary.name, {})[alias] = info
        return out
