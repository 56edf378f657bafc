"""The RegistryService gRPC servicer: thin handlers that convert and call the
use cases; the shared interceptor maps domain errors to status codes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from driftloop.platform.errors import InvalidArgument
from driftloop.registry.v1 import model_pb2, registry_service_pb2_grpc
from driftloop.registry.v1 import registry_service_pb2 as pb
from driftloop_registry.codec import converters as conv
from driftloop_registry.domain.artifact import ArtifactCorrupted
from driftloop_registry.service.registry import Registry


class RegistryServicer(registry_service_pb2_grpc.RegistryServiceServicer):
    def __init__(self, registry: Registry, chunk_bytes: int) -> None:
        self.registry = registry
        self.chunk_bytes = chunk_bytes

    async def RegisterModelVersion(
        self, request_iterator: AsyncIterator[pb.RegisterModelVersionRequest], context: Any
    ) -> model_pb2.ModelVersion:
        first = await anext(aiter(request_iterator), None)
        if first is None or not first.HasField("metadata"):
            raise InvalidArgument("metadata: the first message must carry the metadata")
        version = await self.registry.register(
            conv.draft_from_proto(first.metadata, _correlation(context)), _chunks(request_iterator)
        )
        return conv.version_to_proto(version)

    async def GetModelVersion(self, request: pb.GetModelVersionRequest, context: Any) -> Any:
        found = await self.registry.get_version(request.model, request.version, request.alias)
        return conv.version_to_proto(found)

    async def ListModels(self, request: pb.ListModelsRequest, context: Any) -> Any:
        models = await self.registry.list_models()
        return pb.ListModelsResponse(models=[conv.summary_to_proto(m) for m in models])

    async def ListModelVersions(self, request: pb.ListModelVersionsRequest, context: Any) -> Any:
        found = await self.registry.list_versions(request.model, conv.filter_from_proto(request))
        return pb.ListModelVersionsResponse(versions=[conv.version_to_proto(v) for v in found])

    async def SetAlias(self, request: pb.SetAliasRequest, context: Any) -> Any:
        cause = conv.cause_of(request, _correlation(context))
        change = await self.registry.set_alias(
            request.model, request.alias, request.version, conv.expected_of(request), cause
        )
        return conv.change_to_proto(change)

    async def DeleteAlias(self, request: pb.DeleteAliasRequest, context: Any) -> Any:
        cause = conv.cause_of(request, _correlation(context))
        change = await self.registry.delete_alias(
            request.model, request.alias, conv.expected_of(request), cause
        )
        return conv.change_to_proto(change)

    async def DownloadArtifact(
        self, request: pb.DownloadArtifactRequest, context: Any
    ) -> AsyncIterator[pb.ArtifactChunk]:
        try:
            version, data = await self.registry.artifact(request.model, request.version)
        except ArtifactCorrupted as exc:
            # DATA_LOSS says what happened better than any domain error's code.
            await context.abort(grpc.StatusCode.DATA_LOSS, str(exc))
        step = self.chunk_bytes
        for start in range(0, max(len(data), 1), step):
            chunk = pb.ArtifactChunk(data=data[start : start + step])
            if start == 0:
                chunk.sha256, chunk.size = version.artifact_sha256, version.artifact_size
            yield chunk

    async def GetLineage(self, request: pb.GetLineageRequest, context: Any) -> Any:
        chain = await self.registry.lineage(request.model, request.version)
        return pb.Lineage(chain=[conv.version_to_proto(v) for v in chain])

    async def GetAliasHistory(self, request: pb.GetAliasHistoryRequest, context: Any) -> Any:
        entries, in_force = await self.registry.alias_history(
            request.model, request.alias, conv.at_from_proto(request)
        )
        out = pb.GetAliasHistoryResponse(entries=[conv.change_to_proto(e) for e in entries])
        if in_force is not None:
            out.at_entry.CopyFrom(conv.change_to_proto(in_force))
        return out


def _correlation(context: Any) -> str:
    """The chain's id (``x-correlation-id`` call metadata), if the caller sent it."""
    for key, value in context.invocation_metadata() or ():
        if key == "x-correlation-id":
            return str(value)
    return ""


async def _chunks(requests: AsyncIterator[pb.RegisterModelVersionRequest]) -> AsyncIterator[bytes]:
    async for request in requests:
        if request.HasField("metadata"):
            raise InvalidArgument("metadata: sent twice; only the first message carries it")
        yield request.chunk
