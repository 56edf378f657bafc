"""The MonitoringService gRPC servicer: model health and rollout status."""

from __future__ import annotations

from typing import Any

from driftloop.monitoring.v1 import monitoring_service_pb2 as pb
from driftloop.monitoring.v1 import monitoring_service_pb2_grpc as pb_grpc
from driftloop.platform.errors import InvalidArgument, NotFound
from driftloop_monitoring.codec import converters
from driftloop_monitoring.service.monitor import Monitor


class MonitoringServicer(pb_grpc.MonitoringServiceServicer):
    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor

    async def GetModelHealth(
        self, request: pb.GetModelHealthRequest, context: Any
    ) -> pb.ModelHealth:
        if not request.model:
            raise InvalidArgument("model: required")
        try:
            return converters.health_to_proto(self.monitor.health(request.model))
        except KeyError:
            raise NotFound(f"model {request.model!r}: monitoring has seen nothing of it") from None

    async def GetRolloutStatus(
        self, request: pb.GetRolloutStatusRequest, context: Any
    ) -> pb.RolloutStatus:
        if not request.model:
            raise InvalidArgument("model: required")
        r = self.monitor.rollout(request.model)
        share = r.share(self.monitor.policies.canary(r.model)) if r else 0.0
        return converters.rollout_status_to_proto(request.model, r, share)
