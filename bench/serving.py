"""Serving throughput and latency, side by side: driftloop serving (canary
routing and prediction events on) vs MLServer 1.7.1 (default and tuned) vs a
bare grpc.aio + onnxruntime server (the floor), same ONNX files, same client.

Load: closed loop with 1, 8 and 64 requests in flight, 1 and 64 rows per
request, 20 float features; a logistic regression and a 100-tree
gradient-boosted classifier. Servers are pinned to core 0 (``taskset``), the
client (its own process), the broker and the stand-in registry to core 1.
Servers alternate within each round, the order rotating between rounds;
figures are medians over rounds. Server CPU per request is the CPU time of
the server's process tree (from /proc) during the measured window.

    uv run python bench/serving.py --quick     # headline cases, seconds each
    uv run python bench/serving.py             # the whole matrix (12 cases), 3 rounds, ~27 min
    uv run python bench/serving.py --name serving-issue18 \
        --servers driftloop,driftloop/stream,driftloop/entity,driftloop/two-calls,bare \
        --cases lr:1:64,lr:1:8                 # issue 18: streaming and entity-keyed rows

Needs the MLServer venv (see bench/mlserver/README.md):
    python3 -m venv bench/.venvs/mlserver
    bench/.venvs/mlserver/bin/pip install mlserver==1.7.1 uvloop==0.21.0 onnxruntime
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
MLSERVER = HERE / ".venvs" / "mlserver" / "bin" / "mlserver"
WIDTH = 20
SERVER_CORE, CLIENT_CORE = "0", "1"
TICK = os.sysconf("SC_CLK_TCK")


def build_models(root: Path) -> dict[str, Path]:
    import numpy as np
    from skl2onnx import to_onnx
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, WIDTH)).astype(np.float32)
    y = (x @ rng.normal(size=WIDTH) + 0.3 * rng.normal(size=4000) > 0).astype(np.int64)
    out = {}
    for name, model in (
        ("lr", LogisticRegression(max_iter=300)),
        ("gbm", GradientBoostingClassifier(n_estimators=100, max_depth=3, random_state=0)),
    ):
        model.fit(x, y)
        onx = to_onnx(model, x[:1], options={id(model): {"zipmap": False}})
        old = onx.graph.input[0].name
        onx.graph.input[0].name = "input"
        for node in onx.graph.node:
            node.input[:] = ["input" if i == old else i for i in node.input]
        path = root / f"{name}.onnx"
        path.write_bytes(onx.SerializeToString())
        out[name] = path
    return out


def free_port() -> int:
    from driftloop.platform.testing import free_port as fp

    return fp()


def pinned(core: str, cmd: list[str]) -> list[str]:
    return ["taskset", "-c", core, *cmd]


def tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and every descendant."""
    children: dict[int, list[int]] = {}
    stats: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        ppid = int(fields[1])
        stats[int(entry)] = (int(fields[11]) + int(fields[12])) / TICK
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += stats.get(p, 0.0)
        todo.extend(children.get(p, []))
    return total


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    address: str
    log: Path


@dataclass
class Result:
    server: str
    model: str
    rows: int
    concurrency: int
    runs: list[dict] = field(default_factory=list)

    def median(self, key: str) -> float:
        return statistics.median(r[key] for r in self.runs)


def wait_ready(address: str, model: str, timeout_s: float = 90.0) -> None:
    import grpc

    from inference import grpc_predict_v2_pb2 as pb
    from inference import grpc_predict_v2_pb2_grpc as pb_grpc

    deadline = time.monotonic() + timeout_s
    with grpc.insecure_channel(address) as ch:
        stub = pb_grpc.GRPCInferenceServiceStub(ch)
        while time.monotonic() < deadline:
            try:
                req = pb.ModelInferRequest(model_name=model)
                req.inputs.add(
                    name="input", datatype="FP32", shape=[1, WIDTH]
                ).contents.fp32_contents.extend([0.0] * WIDTH)
                stub.ModelInfer(req, timeout=2)
                return
            except grpc.RpcError:
                time.sleep(0.3)
    raise TimeoutError(f"{address} did not serve {model}")


def start(name: str, cmd: list[str], env: dict[str, str], log: Path, address: str) -> Server:
    out = open(log, "wb")
    proc = subprocess.Popen(
        pinned(SERVER_CORE, cmd), env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
    )
    return Server(name, proc, address, log)


def start_bare(root: Path, models: dict[str, Path], variant: str) -> list[Server]:
    """The bare onnxruntime gRPC server of ``variant``, one per model."""
    servers: list[Server] = []
    py = sys.executable
    for model, path in models.items():
        port = free_port()
        cmd = [py, str(HERE / "serving_bare.py"), "--port", str(port), "--model", str(path)]
        if variant == "bare+uvloop":
            cmd.append("--uvloop")
        if variant == "bare+platform":
            cmd += ["--platform", "--uvloop"]
        servers.append(
            start(
                f"{variant}:{model}",
                cmd,
                {},
                root / f"{variant}-{model}.log",
                f"127.0.0.1:{port}",
            )
        )
    return servers


def start_driftloop(
    root: Path,
    models: dict[str, Path],
    kafka: str,
    profile: Path | None,
    extra_env: dict[str, str],
) -> Server:
    """The serving service with a stand-in registry and feature service."""
    py = sys.executable
    reg_port = free_port()
    reg_log = open(root / "registry.log", "wb")
    registry = subprocess.Popen(
        pinned(
            CLIENT_CORE,
            [
                py,
                str(HERE / "serving_registry.py"),
                "--port",
                str(reg_port),
                *(f"{m}={p}" for m, p in models.items()),
            ],
        ),
        stdout=reg_log,
        stderr=subprocess.STDOUT,
    )
    # The stand-in feature service shares the server core: the platform's
    # CPU for an entity-keyed prediction is serving's plus the lookup's.
    feat_port = free_port()
    features = subprocess.Popen(
        pinned(
            SERVER_CORE,
            [py, str(HERE / "serving_features.py"), "--port", str(feat_port)],
        ),
        stdout=open(root / "features.log", "wb"),
        stderr=subprocess.STDOUT,
    )
    port, metrics_port = free_port(), free_port()
    addresses = {"registry": f"127.0.0.1:{reg_port}", "feature": f"127.0.0.1:{feat_port}"}
    env = {
        "DRIFTLOOP_KAFKA_BOOTSTRAP": kafka,
        "DRIFTLOOP_KAFKA_IDEMPOTENCE": "off",  # Tansu
        "DRIFTLOOP_GRPC_PORT": str(port),
        "DRIFTLOOP_METRICS_PORT": str(metrics_port),
        "DRIFTLOOP_SERVICE_ADDRESSES": json.dumps(addresses),
        "DRIFTLOOP_DATA_DIR": str(root),
        "DRIFTLOOP_DEFAULT_CANDIDATE_SHARE": "0.1",
        "DRIFTLOOP_LOG_FORMAT": "json",
        "DRIFTLOOP_STREAM_SCORING": "false",
        **extra_env,
    }
    cmd = [py, "-m", "driftloop_serving"]
    if profile is not None:
        cmd = [py, "-m", "cProfile", "-o", str(profile), "-m", "driftloop_serving"]
    server = start(
        "driftloop",
        cmd,
        env,
        root / "driftloop.log",
        f"127.0.0.1:{port}",
    )
    server.registry = registry  # type: ignore[attr-defined]
    server.features = (features, addresses["feature"])  # type: ignore[attr-defined]
    server.metrics_port = metrics_port  # type: ignore[attr-defined]
    return server


def start_mlserver(root: Path, models: dict[str, Path], variant: str) -> Server:
    """MLServer (``mlserver-default`` or ``mlserver-tuned``) with every model."""
    folder = root / variant
    folder.mkdir()
    http, grpc_port, metrics = free_port(), free_port(), free_port()
    settings = {"http_port": http, "grpc_port": grpc_port, "metrics_port": metrics}
    if variant == "mlserver-tuned":
        settings.update(parallel_workers=0, metrics_endpoint=None, debug=False)
    (folder / "settings.json").write_text(json.dumps(settings))
    shutil.copy(HERE / "mlserver" / "runtime.py", folder / "runtime.py")
    for model, path in models.items():
        (folder / model).mkdir()
        shutil.copy(HERE / "mlserver" / "runtime.py", folder / model / "runtime.py")
        (folder / model / "model-settings.json").write_text(
            json.dumps(
                {
                    "name": model,
                    "implementation": "runtime.OnnxRuntime",
                    "parameters": {"uri": str(path)},
                }
            )
        )
    env = {"PYTHONPATH": str(folder)}
    cmd = [str(MLSERVER), "start", str(folder)]
    proc_env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    proc_env.update(env)
    out = open(root / f"{variant}.log", "wb")
    proc = subprocess.Popen(
        pinned(SERVER_CORE, cmd), env=proc_env, stdout=out, stderr=subprocess.STDOUT, cwd=folder
    )
    return Server(variant, proc, f"127.0.0.1:{grpc_port}", root / f"{variant}.log")


def start_servers(
    root: Path,
    models: dict[str, Path],
    kafka: str,
    which: list[str],
    profile: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> list[Server]:
    extra_env = extra_env or {}
    servers: list[Server] = []
    for variant in [v for v in ("bare", "bare+uvloop", "bare+platform") if v in which]:
        servers += start_bare(root, models, variant)
    if "driftloop" in which:
        servers.append(start_driftloop(root, models, kafka, profile, extra_env))
    for variant in [v for v in ("mlserver-default", "mlserver-tuned") if v in which]:
        servers.append(start_mlserver(root, models, variant))
    return servers


def address_for(servers: list[Server], kind: str, model: str) -> Server:
    kind = kind.split("/")[0]  # "driftloop/stream": the driftloop server, streamed to
    for s in servers:
        if s.name == kind or s.name == f"{kind}:{model}":
            return s
    raise KeyError(kind)


def measure(
    server: Server,
    model: str,
    rows: int,
    conc: int,
    duration: float,
    warmup: float,
    mode: str = "unary",
) -> dict:
    features = getattr(server, "features", None)
    pids = [server.proc.pid] + ([features[0].pid] if features else [])
    cmd = pinned(
        CLIENT_CORE,
        [
            sys.executable,
            str(HERE / "serving_client.py"),
            "--target",
            server.address,
            "--model",
            model,
            "--rows",
            str(rows),
            "--concurrency",
            str(conc),
            "--duration",
            str(duration),
            "--warmup",
            str(warmup),
            "--mode",
            mode,
            *(["--features", features[1]] if features else []),
        ],
    )
    client = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert client.stdout is not None
    cpu0 = cpu1 = 0.0
    result = {}
    for line in client.stdout:
        line = line.strip()
        if line == "MEASURING":
            cpu0 = sum(tree_cpu_s(p) for p in pids)
        elif line == "DONE":
            cpu1 = sum(tree_cpu_s(p) for p in pids)
        elif line.startswith("{"):
            result = json.loads(line)
    client.wait()
    if not result:
        raise RuntimeError(f"client failed against {server.name}")
    result["cpu_us_per_req"] = (cpu1 - cpu0) / max(result["requests"], 1) * 1e6
    return result


def event_counts(servers: list[Server]) -> dict[str, float]:
    """driftloop's prediction-event counters, from its Prometheus endpoint."""
    import urllib.request

    out: dict[str, float] = {}
    for s in servers:
        port = getattr(s, "metrics_port", None)
        if port is None:
            continue
        try:
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
        except OSError:
            continue  # metrics disabled
        for line in text.decode().splitlines():
            if line.startswith("driftloop_serving_prediction_events_") and "_created" not in line:
                name, value = line.rsplit(" ", 1)
                out[name.removeprefix("driftloop_serving_prediction_events_")] = float(value)
    return out


def report(results: list[Result], args: argparse.Namespace, events: dict[str, float]) -> str:
    lines = [
        "## Serving: OIP v2 ModelInfer, driftloop vs MLServer 1.7.1 vs bare grpc.aio+onnxruntime\n",
        f"Median of {args.rounds} rounds of {args.duration:g} s (after {args.warmup:g} s warm-up) "
        "per case; servers on core 0, client/broker/registry on core 1; driftloop with a "
        "candidate at 10% canary and prediction events published to the embedded broker. "
        "CPU/req is the server process tree's CPU time per request.\n",
        "| model | rows | in flight | server | req/s | rows/s | p50 ms | p99 ms | CPU µs/req "
        "| errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.model} | {r.rows} | {r.concurrency} | {r.server} | {r.median('rps'):,.0f} | "
            f"{r.median('rows_per_s'):,.0f} | {r.median('p50_ms'):.2f} | "
            f"{r.median('p99_ms'):.2f} | "
            f"{r.median('cpu_us_per_req'):,.0f} | {sum(x['errors'] for x in r.runs)} |"
        )
    lines.append("")
    if events:
        lines.append(
            "driftloop prediction events over the whole run (counted per scoring call; since "
            "issue 18 a 64-row call is one event): "
            + ", ".join(f"{k} {v:,.0f}" for k, v in sorted(events.items()))
            + "\n"
        )
    lines.append("### Goals (lr, 64 in flight, 1 row; driftloop / peer)\n")
    lines.append("| peer | throughput ratio | p99 driftloop / peer | CPU/req ratio |")
    lines.append("|---|---|---|---|")
    head = {r.server: r for r in results if (r.model, r.rows, r.concurrency) == ("lr", 1, 64)}
    d = head.get("driftloop")
    if d:
        for peer, r in head.items():
            if peer == "driftloop":
                continue
            lines.append(
                f"| {peer} | {d.median('rps') / r.median('rps'):.2f}× | "
                f"{d.median('p99_ms') / r.median('p99_ms'):.2f} | "
                f"{d.median('cpu_us_per_req') / r.median('cpu_us_per_req'):.2f}× |"
            )
    lines.append(
        "\nGoals: ≥ 3.5× mlserver-default and ≥ 1.5× mlserver-tuned throughput with p99 "
        "no worse (ratio ≤ 1); CPU/req ≤ 1.25× bare. `bare` is the floor the issue names "
        "(grpc.aio on the standard asyncio loop); `bare+uvloop` is the same server on "
        "uvloop, the event loop driftloop's services run on, to show what the loop alone "
        "gives; `bare+platform` the bare servicer inside driftloop's whole GrpcServer shell "
        "(interceptor, health, reflection) on uvloop, to show what the shared layer costs "
        "by itself.\n\n"
        "Issue 18 kinds (same driftloop server, other client modes): `driftloop/stream` "
        "sends the requests on one ModelStreamInfer stream with the same number in flight; "
        "`driftloop/entity` sends entity-keyed ModelInfer (no tensor; serving reads the "
        "vector from the stand-in feature service, bench/serving_features.py); "
        "`driftloop/two-calls` does today's glue (GetOnlineFeatures, then ModelInfer with "
        "the tensor). driftloop's CPU/req includes the feature stand-in's CPU (idle unless "
        "an entity case runs).\n"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--servers",
        default="driftloop,bare,bare+uvloop,bare+platform,mlserver-default,mlserver-tuned",
    )
    parser.add_argument("--cases", default="", help="model:rows:in_flight,... (default: all)")
    parser.add_argument("--rounds", type=int, default=0, help="override the rounds")
    parser.add_argument("--name", default="", help="results file stem (default: serving)")
    parser.add_argument("--profile", type=Path, help="write a cProfile of driftloop serving here")
    parser.add_argument(
        "--driftloop-env", default="", help="K=V,... extra settings for driftloop serving"
    )
    args = parser.parse_args()
    if args.quick:
        rounds, args.duration, args.warmup = 2, 3.0, 1.0
        # 64-row cases last: their event backlog would bill the next case.
        cases = [("lr", 1, 64), ("lr", 1, 1), ("gbm", 1, 64), ("lr", 64, 8)]
    else:
        rounds, args.duration, args.warmup = 3, 5.0, 1.0
        cases = [(m, r, c) for r in (1, 64) for m in ("lr", "gbm") for c in (1, 8, 64)]
    if args.cases:
        cases = [(m, int(r), int(c)) for m, r, c in (x.split(":") for x in args.cases.split(","))]
    args.rounds = args.rounds or rounds
    which = args.servers.split(",")
    if any(w.startswith("mlserver") for w in which) and not MLSERVER.exists():
        print(f"missing {MLSERVER}: see this file's docstring", file=sys.stderr)
        return 1
    root = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    models = build_models(root)
    from driftloop.platform.embedded import TansuBroker, ensure_topics
    from driftloop.platform.settings import KafkaSettings

    broker = None
    kafka = ""
    if "driftloop" in which:
        port = free_port()
        broker = TansuBroker(port, root / "broker.log")
        broker.start()
        subprocess.run(
            ["taskset", "-pc", CLIENT_CORE, str(broker.process.pid)],
            check=False,
            capture_output=True,
        )
        settings = KafkaSettings(embedded_port=port)
        asyncio.run(broker.wait_ready(settings))
        asyncio.run(ensure_topics(settings))
        kafka = settings.servers
    extra = dict(kv.split("=", 1) for kv in args.driftloop_env.split(",") if kv)
    servers = start_servers(root, models, kafka, which, args.profile, extra)
    results: list[Result] = []
    events: dict[str, float] = {}
    try:
        for s in servers:
            for model in models:
                if ":" not in s.name or s.name.endswith(f":{model}"):
                    wait_ready(s.address, model)
        kinds = which
        for model, rows, conc in cases:
            case = {k: Result(k, model, rows, conc) for k in kinds}
            for rnd in range(args.rounds):
                order = kinds[rnd % len(kinds) :] + kinds[: rnd % len(kinds)]
                for kind in order:
                    server = address_for(servers, kind, model)
                    mode = kind.split("/")[1] if "/" in kind else "unary"
                    run = measure(server, model, rows, conc, args.duration, args.warmup, mode)
                    case[kind].runs.append(run)
                    print(
                        f"{model} rows={rows} c={conc} {kind}: {run['rps']:.0f} req/s "
                        f"p99 {run['p99_ms']:.2f} ms cpu {run['cpu_us_per_req']:.0f} µs/req",
                        flush=True,
                    )
            results.extend(case.values())
        time.sleep(3)  # let the last batches go out
        events = event_counts(servers)
    finally:
        for s in servers:
            s.proc.terminate()
            reg = getattr(s, "registry", None)
            if reg is not None:
                reg.terminate()
                s.features[0].terminate()  # type: ignore[attr-defined]
        for s in servers:
            try:
                s.proc.wait(15)
            except subprocess.TimeoutExpired:
                s.proc.kill()
        if broker is not None:
            broker.stop()
    text = report(results, args, events)
    RESULTS.mkdir(exist_ok=True)
    stem = args.name or ("serving-quick" if args.quick else "serving")
    (RESULTS / f"{stem}.md").write_text(text)
    (RESULTS / f"{stem}.json").write_text(json.dumps([r.__dict__ for r in results], indent=1))
    print(text)
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
