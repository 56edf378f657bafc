"""The Open Inference Protocol v2 gRPC servicer (``inference.GRPCInferenceService``)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import grpc
import structlog

from driftloop.platform.errors import DriftloopError
from driftloop.platform.grpc_server import status_of
from driftloop_serving.codec import converters
from driftloop_serving.service.inference import Predictor
from inference import grpc_predict_v2_pb2 as pb
from inference import grpc_predict_v2_pb2_grpc as pb_grpc

log = structlog.get_logger(__name__)

SERVER_NAME = "driftloop-serving"
SERVER_VERSION = "0.1.0"


class InferenceServicer(pb_grpc.GRPCInferenceServiceServicer):
    def __init__(self, predictor: Predictor) -> None:
        self.predictor = predictor

    async def ServerLive(self, request: pb.ServerLiveRequest, context: grpc.aio.ServicerContext):
        return pb.ServerLiveResponse(live=True)

    async def ServerReady(self, request: pb.ServerReadyRequest, context):
        # Ready once every model it knows has a version to answer with.
        models = list(self.predictor.catalog)
        return pb.ServerReadyResponse(ready=all(m.ready for m in models))

    async def ServerMetadata(self, request: pb.ServerMetadataRequest, context):
        return pb.ServerMetadataResponse(name=SERVER_NAME, version=SERVER_VERSION, extensions=[])

    async def ModelReady(self, request: pb.ModelReadyRequest, context):
        served = self.predictor.catalog.get(request.name)
        if served is None or not served.ready:
            return pb.ModelReadyResponse(ready=False)
        if request.version:
            return pb.ModelReadyResponse(
                ready=request.version.isdigit()
                and served.by_version(int(request.version)) is not None
            )
        return pb.ModelReadyResponse(ready=True)

    async def ModelMetadata(self, request: pb.ModelMetadataRequest, context):
        found = self.predictor.resolve(request.name, request.version)
        served = self.predictor.served(request.name)
        loaded = found[0] if found else (served.champion or served.candidate)
        return converters.model_metadata(request.name, served.loaded_versions(), loaded)

    async def ModelInfer(self, request: pb.ModelInferRequest, context):
        started = time.perf_counter()
        result = await self.predictor.infer(converters.infer_request(request), started)
        # Typed inputs get typed outputs; raw inputs, or none (entity-keyed),
        # raw ones, which is what Triton clients read.
        raw = bool(request.raw_input_contents) or not request.inputs
        return converters.infer_response(result, raw=raw)

    async def ModelStreamInfer(self, requests: AsyncIterator[pb.ModelInferRequest], context):
        # In order, one at a time per stream: a request scores in microseconds
        # inline, and gRPC flow control keeps the next ones queued meanwhile.
        async for request in requests:
            try:
                answer = await self.ModelInfer(request, context)
            except DriftloopError as exc:
                yield converters.stream_error(request, f"{status_of(exc).name}: {exc}")
                continue
            except Exception as exc:
                log.error("stream_infer.failed", model=request.model_name, error=repr(exc))
                yield converters.stream_error(request, f"INTERNAL: {type(exc).__name__}")
                continue
            yield pb.ModelStreamInferResponse(infer_response=answer)
