"""A stand-in feature service for bench/serving.py's entity-keyed cases:
``GetOnlineFeatures`` of view ``bench`` (version 1) from a dict of 997
entities' vectors, as the feature service's in-memory online store answers."""

from __future__ import annotations

import argparse
import asyncio

import grpc
import numpy as np

from driftloop.feature.v1 import feature_service_pb2 as api
from driftloop.feature.v1 import feature_service_pb2_grpc as api_grpc

ENTITIES = 997


class Features(api_grpc.FeatureServiceServicer):
    def __init__(self, width: int) -> None:
        rng = np.random.default_rng(11)
        self.names = [f"f{i}" for i in range(width)]
        self.vectors = {
            f"e{i}": (rng.normal(size=width).tolist(), f"rec-{i}") for i in range(ENTITIES)
        }

    async def GetOnlineFeatures(self, request, context):
        reply = api.GetOnlineFeaturesResponse(
            view=request.view, view_version=1, feature_names=self.names
        )
        for entity in request.entity_ids:
            found = self.vectors.get(entity)
            out = reply.vectors.add(entity_id=entity, found=found is not None)
            if found is not None:
                out.values.extend(found[0])
                out.record_id = found[1]
        return reply


async def serve(port: int, width: int) -> None:
    server = grpc.aio.server()
    api_grpc.add_FeatureServiceServicer_to_server(Features(width), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--width", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.width))


if __name__ == "__main__":
    main()
