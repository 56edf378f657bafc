"""Closed-loop OIP v2 load client for bench/serving.py, run in its own process.

Keeps ``--concurrency`` ModelInfer calls in flight over one channel for
``--duration`` seconds (after ``--warmup``) and prints one JSON line:
requests, errors, req/s, rows/s, p50 and p99 latency in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import grpc
import numpy as np

from inference import grpc_predict_v2_pb2 as pb
from inference import grpc_predict_v2_pb2_grpc as pb_grpc


def make_requests(model: str, rows: int, width: int, n: int) -> list[pb.ModelInferRequest]:
    rng = np.random.default_rng(7)
    out = []
    for i in range(n):
        req = pb.ModelInferRequest(model_name=model, id=f"b{i}")
        req.parameters["entity_id"].string_param = f"e{i % 997}"
        t = req.inputs.add(name="input", datatype="FP32", shape=[rows, width])
        t.contents.fp32_contents.extend(rng.normal(size=rows * width).astype(np.float32).tolist())
        out.append(req)
    return out


async def run(args: argparse.Namespace) -> dict:
    requests = make_requests(args.model, args.rows, args.width, 256)
    async with grpc.aio.insecure_channel(args.target) as channel:
        stub = pb_grpc.GRPCInferenceServiceStub(channel)
        await stub.ModelInfer(requests[0], timeout=30)
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
                    await stub.ModelInfer(req, timeout=30)
                except grpc.aio.AioRpcError:
                    if measuring:
                        errors += 1
                    continue
                if measuring:
                    latencies.append(time.perf_counter() - t0)

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
    lat = np.array(latencies) * 1000.0
    n = len(latencies)
    return {
        "requests": n,
        "errors": errors,
        "rps": n / elapsed,
        "rows_per_s": n * args.rows / elapsed,
        "p50_ms": float(np.percentile(lat, 50)) if n else float("nan"),
        "p99_ms": float(np.percentile(lat, 99)) if n else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--rows", type=int, default=1)
    parser.add_argument("--width", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
