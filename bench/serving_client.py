"""Closed-loop OIP v2 load client for bench/serving.py, run in its own process.

Keeps ``--concurrency`` ModelInfer calls in flight over one channel (or, with
``--mode stream``, that many requests in flight on one ModelStreamInfer
stream) for
``--duration`` seconds (after ``--warmup``) and prints one JSON line:
requests, errors, req/s, rows/s, p50 and p99 latency in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import time

import grpc
import numpy as np

from driftloop.feature.v1 import feature_service_pb2 as fs
from driftloop.feature.v1 import feature_service_pb2_grpc as fs_grpc
from inference import grpc_predict_v2_pb2 as pb
from inference import grpc_predict_v2_pb2_grpc as pb_grpc


def make_requests(
    model: str, rows: int, width: int, n: int, tensors: bool = True
) -> list[pb.ModelInferRequest]:
    rng = np.random.default_rng(7)
    out = []
    for i in range(n):
        req = pb.ModelInferRequest(model_name=model, id=f"b{i}")
        req.parameters["entity_id"].string_param = f"e{i % 997}"
        if not tensors:  # entity-keyed: serving reads the vector itself
            out.append(req)
            continue
        t = req.inputs.add(name="input", datatype="FP32", shape=[rows, width])
        t.contents.fp32_contents.extend(rng.normal(size=rows * width).astype(np.float32).tolist())
        out.append(req)
    return out


async def two_calls(
    stub: pb_grpc.GRPCInferenceServiceStub,
    features: fs_grpc.FeatureServiceStub,
    req: pb.ModelInferRequest,
) -> None:
    """Today's client glue: look the vector up, then send it."""
    entity = req.parameters["entity_id"].string_param
    found = await features.GetOnlineFeatures(
        fs.GetOnlineFeaturesRequest(view="bench", entity_ids=[entity]), timeout=30
    )
    values = found.vectors[0].values
    full = pb.ModelInferRequest(model_name=req.model_name, id=req.id)
    full.parameters["entity_id"].string_param = entity
    full.inputs.add(
        name="input", datatype="FP32", shape=[1, len(values)]
    ).contents.fp32_contents.extend(values)
    await stub.ModelInfer(full, timeout=30)


def summary(latencies: list[float], errors: int, elapsed: float, rows: int) -> dict:
    """The JSON line: counts, rates and latency percentiles (ms)."""
    lat = np.array(latencies) * 1000.0
    n = len(latencies)
    return {
        "requests": n,
        "errors": errors,
        "rps": n / elapsed,
        "rows_per_s": n * rows / elapsed,
        "p50_ms": float(np.percentile(lat, 50)) if n else float("nan"),
        "p99_ms": float(np.percentile(lat, 99)) if n else float("nan"),
    }


async def run(args: argparse.Namespace) -> dict:
    requests = make_requests(args.model, args.rows, args.width, 256, args.mode != "entity")
    async with (
        grpc.aio.insecure_channel(args.target) as channel,
        grpc.aio.insecure_channel(args.features or args.target) as feature_channel,
    ):
        stub = pb_grpc.GRPCInferenceServiceStub(channel)
        features = fs_grpc.FeatureServiceStub(feature_channel)
        await stub.ModelInfer(requests[0], timeout=30)

        call = stub.ModelInfer if args.mode != "two-calls" else None
        latencies: list[float] = []
        errors = 0
        measuring = False
        stop = False

        async def worker(w: int) -> None:
            nonlocal errors
            i = w
            while not stop:
                req = requests[i % len(requests)]
                i += args.concurrency
                t0 = time.perf_counter()
                try:
                    if call is None:
                        await two_calls(stub, features, req)
                    else:
                        await call(req, timeout=30)
                except grpc.aio.AioRpcError:
                    if measuring:
                        errors += 1
                    continue
                if measuring:
                    latencies.append(time.perf_counter() - t0)

        async def stream() -> None:
            # One ModelStreamInfer stream with ``concurrency`` requests in
            # flight; answers come in request order, so a FIFO of send times
            # gives each one's latency.
            nonlocal errors
            window = asyncio.Semaphore(args.concurrency)
            sent: collections.deque[float] = collections.deque()
            call = stub.ModelStreamInfer()

            async def write() -> None:
                i = 0
                while not stop:
                    await window.acquire()
                    sent.append(time.perf_counter())
                    await call.write(requests[i % len(requests)])
                    i += 1
                await call.done_writing()

            writer = asyncio.create_task(write())
            async for answer in call:
                window.release()
                t0 = sent.popleft()
                if measuring:
                    if answer.error_message:
                        errors += 1
                    else:
                        latencies.append(time.perf_counter() - t0)
            await writer

        if args.mode == "stream":
            tasks = [asyncio.create_task(stream())]
        else:
            tasks = [asyncio.create_task(worker(w)) for w in range(args.concurrency)]
        await asyncio.sleep(args.warmup)
        measuring = True
        started = time.perf_counter()
        print("MEASURING", flush=True)
        await asyncio.sleep(args.duration)
        measuring = False
        elapsed = time.perf_counter() - started
        print("DONE", flush=True)
        stop = True
        await asyncio.gather(*tasks)
    return summary(latencies, errors, elapsed, args.rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--rows", type=int, default=1)
    parser.add_argument("--width", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument(
        "--mode",
        choices=("unary", "stream", "entity", "two-calls"),
        default="unary",
        help="ModelInfer, ModelStreamInfer, entity-keyed ModelInfer, or the feature "
        "lookup then ModelInfer",
    )
    parser.add_argument("--features", default="", help="feature service (two-calls)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
