"""The floor for bench/feature.py's online lookup: a bare grpc.aio
``FeatureService`` that answers ``GetOnlineFeatures`` from a dict of
prebuilt vectors (as many entities and values as the benchmark's view), with
no validation, no store and no interceptor, on uvloop (as driftloop's
services run). What it costs is what any Python gRPC lookup costs on the
machine."""

from __future__ import annotations

import argparse
import asyncio

import grpc
import uvloop

from driftloop.feature.v1 import feature_service_pb2 as pb
from driftloop.feature.v1 import feature_service_pb2_grpc as pb_grpc

NAMES = ["amount", "amount_mean_10", "amount_max_60s", "amount_std_20"]


class Bare(pb_grpc.FeatureServiceServicer):
    def __init__(self, entities: int) -> None:
        self.vectors = {}
        for i in range(entities):
            v = pb.OnlineVector(
                entity_id=f"u{i}", found=True, values=[1.0, 2.0, 3.0, 4.0], record_id=f"r{i}"
            )
            v.event_time.FromNanoseconds(1_700_000_000_000_000_000 + i)
            v.age.FromNanoseconds(1_000_000)
            self.vectors[v.entity_id] = v

    async def GetOnlineFeatures(self, request, context):
        reply = pb.GetOnlineFeaturesResponse(view=request.view, view_version=1, feature_names=NAMES)
        reply.vectors.extend(self.vectors[e] for e in request.entity_ids)
        return reply


async def serve(port: int, entities: int) -> None:
    server = grpc.aio.server()
    pb_grpc.add_FeatureServiceServicer_to_server(Bare(entities), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--entities", type=int, default=1000)
    args = parser.parse_args()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve(args.port, args.entities))
