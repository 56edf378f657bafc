"""The feature service's online store over gRPC (``GetOnlineFeatures``)."""

from __future__ import annotations

import grpc

from driftloop.feature.v1 import feature_service_pb2, feature_service_pb2_grpc
from driftloop.platform.errors import NotFound, Unavailable
from driftloop_serving.service.entities import EntityVector


class GrpcFeatures:
    """:class:`~driftloop_serving.service.entities.FeatureLookup` over a channel."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = feature_service_pb2_grpc.FeatureServiceStub(channel)

    async def newest(self, view: str, entity_id: str) -> EntityVector | None:
        request = feature_service_pb2.GetOnlineFeaturesRequest(view=view, entity_ids=[entity_id])
        try:
            reply = await self._stub.GetOnlineFeatures(request)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                raise NotFound(f"feature service: {exc.details()}") from None
            raise Unavailable(
                f"feature service unavailable: {exc.code().name} {exc.details()}"
            ) from None
        found = reply.vectors[0] if reply.vectors else None
        if found is None or not found.found:
            return None
        return EntityVector(
            view=reply.view,
            view_version=reply.view_version,
            names=tuple(reply.feature_names),
            values=tuple(found.values),
            record_id=found.record_id,
            age_s=found.age.ToTimedelta().total_seconds(),
        )
