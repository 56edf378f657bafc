"""The ``driftloop.serving.v1.ServingAdminService`` servicer."""

from __future__ import annotations

from driftloop.serving.v1 import admin_service_pb2 as pb
from driftloop.serving.v1 import admin_service_pb2_grpc as pb_grpc
from driftloop_serving.codec import converters
from driftloop_serving.service.admin import Admin


class AdminServicer(pb_grpc.ServingAdminServiceServicer):
    def __init__(self, admin: Admin) -> None:
        self.admin = admin

    async def GetRolloutState(self, request: pb.GetRolloutStateRequest, context):
        return converters.rollout_state(self.admin.state(request.model))

    async def PinTrafficSplit(self, request: pb.PinTrafficSplitRequest, context):
        mode = converters.mode_of(request.mode)
        return converters.rollout_state(
            await self.admin.pin(request.model, request.candidate_share, mode)
        )

    async def ClearTrafficSplit(self, request: pb.ClearTrafficSplitRequest, context):
        return converters.rollout_state(await self.admin.clear(request.model))
