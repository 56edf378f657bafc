"""The floor for bench/serving.py: a bare grpc.aio OIP v2 server with
onnxruntime and nothing else (no routing, no events, no interceptor).
``--uvloop`` runs it on uvloop's event loop (driftloop services' default) to
show what the loop alone changes; ``--platform`` puts the servicer inside
driftloop's GrpcServer shell, to measure what that shell costs."""

from __future__ import annotations

import argparse
import asyncio

import grpc
import numpy as np
import onnxruntime as ort

from inference import grpc_predict_v2_pb2 as pb
from inference import grpc_predict_v2_pb2_grpc as pb_grpc

FIELD = {np.dtype(np.float32): "fp32_contents", np.dtype(np.int64): "int64_contents"}
NAME = {np.dtype(np.float32): "FP32", np.dtype(np.int64): "INT64"}


class Bare(pb_grpc.GRPCInferenceServiceServicer):
    def __init__(self, path: str) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self.outputs = [o.name for o in self.session.get_outputs()]

    async def ServerReady(self, request, context):
        return pb.ServerReadyResponse(ready=True)

    async def ServerLive(self, request, context):
        return pb.ServerLiveResponse(live=True)

    async def ModelInfer(self, request, context):
        t = request.inputs[0]
        x = np.array(t.contents.fp32_contents, dtype=np.float32).reshape(tuple(t.shape))
        results = self.session.run(None, {t.name: x})
        response = pb.ModelInferResponse(model_name=request.model_name, id=request.id)
        for name, array in zip(self.outputs, results, strict=True):
            out = response.outputs.add(name=name, datatype=NAME[array.dtype])
            out.shape.extend(array.shape)
            getattr(out.contents, FIELD[array.dtype]).extend(array.ravel().tolist())
        return response


async def serve(args: argparse.Namespace) -> None:
    if args.platform:
        # The same servicer inside driftloop's GrpcServer (interceptor, health,
        # reflection, options): what the platform shell costs by itself.
        from driftloop.platform.grpc_server import GrpcServer
        from driftloop.platform.settings import GrpcSettings

        shell = GrpcServer(GrpcSettings(port=args.port), 0)
        shell.add(
            pb_grpc.add_GRPCInferenceServiceServicer_to_server,
            Bare(args.model),
            "inference.GRPCInferenceService",
        )
        await shell.start()
        await shell.set_serving(True)
        await shell.server.wait_for_termination()
        return
    server = grpc.aio.server()
    pb_grpc.add_GRPCInferenceServiceServicer_to_server(Bare(args.model), server)
    server.add_insecure_port(f"127.0.0.1:{args.port}")
    await server.start()
    await server.wait_for_termination()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--platform", action="store_true")
    args = parser.parse_args()
    factory = None
    if args.uvloop:
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(serve(args))


if __name__ == "__main__":
    main()
