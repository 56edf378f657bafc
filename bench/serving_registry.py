"""A stand-in registry for bench/serving.py: serves given ONNX files as
versions of models, with champion/candidate aliases, over the registry API."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
from pathlib import Path

import grpc

from driftloop.registry.v1 import model_pb2
from driftloop.registry.v1 import registry_service_pb2 as api
from driftloop.registry.v1 import registry_service_pb2_grpc as api_grpc


class Registry(api_grpc.RegistryServiceServicer):
    def __init__(self, models: dict[str, tuple[bytes, bytes]]) -> None:
        # name -> (champion v1 bytes, candidate v2 bytes)
        self.blobs = {(m, v + 1): data for m, pair in models.items() for v, data in enumerate(pair)}

    def _version(self, model: str, version: int) -> model_pb2.ModelVersion:
        data = self.blobs[(model, version)]
        return model_pb2.ModelVersion(
            model=model,
            version=version,
            artifact_sha256=hashlib.sha256(data).hexdigest(),
            artifact_size=len(data),
            # Entity-keyed cases read vectors of this view (bench/serving_features.py).
            feature_view="bench",
            feature_view_version=1,
        )

    async def ListModels(self, request, context):
        names = sorted({m for m, _ in self.blobs})
        return api.ListModelsResponse(
            models=[
                api.ModelSummary(name=n, aliases={"champion": 1, "candidate": 2}) for n in names
            ]
        )

    async def GetModelVersion(self, request, context):
        version = request.version or {"champion": 1, "candidate": 2}[request.alias]
        return self._version(request.model, version)

    async def DownloadArtifact(self, request, context):
        data = self.blobs[(request.model, request.version)]
        yield api.ArtifactChunk(data=data, sha256=hashlib.sha256(data).hexdigest(), size=len(data))


async def serve(port: int, models: dict[str, tuple[bytes, bytes]]) -> None:
    server = grpc.aio.server()
    api_grpc.add_RegistryServiceServicer_to_server(Registry(models), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("model", nargs="+", help="name=path (served as v1 and v2)")
    args = parser.parse_args()
    models = {}
    for item in args.model:
        name, path = item.split("=", 1)
        data = Path(path).read_bytes()
        models[name] = (data, data)
    asyncio.run(serve(args.port, models))


if __name__ == "__main__":
    main()
