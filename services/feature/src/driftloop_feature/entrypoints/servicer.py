"""gRPC entrypoint: ``driftloop.feature.v1.FeatureService``."""

from __future__ import annotations

import grpc

from driftloop.feature.v1 import feature_service_pb2 as pb
from driftloop.feature.v1 import feature_service_pb2_grpc as pb_grpc
from driftloop_feature.codec import converters
from driftloop_feature.service.lookup import OnlineFeatures


class FeatureServicer(pb_grpc.FeatureServiceServicer):
    """Online lookup; domain errors are mapped to status codes by the server."""

    def __init__(self, lookup: OnlineFeatures) -> None:
        self._lookup = lookup

    async def GetOnlineFeatures(
        self, request: pb.GetOnlineFeaturesRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetOnlineFeaturesResponse:
        ids = list(request.entity_ids)
        view, entries = await self._lookup.get(request.view, ids)
        return converters.entries_to_proto(view, ids, entries)

    async def ListFeatureViews(
        self, request: pb.ListFeatureViewsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListFeatureViewsResponse:
        return pb.ListFeatureViewsResponse(
            views=[converters.view_to_proto(v) for v in self._lookup.views()]
        )
