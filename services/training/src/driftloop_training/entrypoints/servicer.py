"""The ``driftloop.training.v1.TrainingService`` gRPC servicer."""

from __future__ import annotations

from driftloop.platform.errors import InvalidArgument
from driftloop.training.v1 import run_pb2, training_service_pb2, training_service_pb2_grpc
from driftloop_training.codec.converters import run_to_proto, window_from_proto
from driftloop_training.domain.runs import Trigger
from driftloop_training.service.runs import Runs


class TrainingServicer(training_service_pb2_grpc.TrainingServiceServicer):
    def __init__(self, runs: Runs) -> None:
        self.runs = runs

    async def StartTraining(self, request, context):
        if not request.model:
            raise InvalidArgument("model is required")
        if request.seed < 0:
            raise InvalidArgument("seed must not be negative")
        model = self.runs.model(request.model)
        window = window_from_proto(request.window, self.runs.default_window(model))
        run, decision = await self.runs.request(
            model.name,
            Trigger.MANUAL,
            window=window,
            seed=request.seed,
            snapshot_id=request.snapshot_id,
        )
        return training_service_pb2.StartTrainingResponse(
            run_id=run.run_id if run else "", accepted=run is not None, message=decision.reason
        )

    async def GetRun(self, request, context) -> run_pb2.Run:
        if not request.run_id:
            raise InvalidArgument("run_id is required")
        return run_to_proto(self.runs.get(request.run_id))

    async def ListRuns(self, request, context):
        if request.limit < 0:
            raise InvalidArgument("limit must not be negative")
        runs = self.runs.store.list_runs(request.model, request.limit or 100)
        return training_service_pb2.ListRunsResponse(runs=[run_to_proto(r) for r in runs])
