"""Loop benchmarks (issue 9): how fast the platform closes the loop, how well
what it served adapts to drift against fixed and online-learning baselines,
and how much memory it takes.

Each scenario starts the embedded platform afresh on its own ports, runs the
demo's producer / OIP v2 client / labeller at 200 records/s with a 5 s label
delay, and then scores the same records with the baselines:

(a) the platform's first champion, never retrained (its ONNX artifact, on the
    same feature vectors);
(b) river's adaptive random forest learning online on the same records
    (prequential: predict, then learn — it gets each label at once, which
    favours it over the platform, whose labels come 5 s late);
(c) the no-change classifier (predict the previous label).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from driftloop.feature.v1.events_pb2 import FeatureVectorComputed  # noqa: E402
from driftloop.platform import topics  # noqa: E402
from driftloop.platform.settings import KafkaSettings, ServiceSettings  # noqa: E402
from driftloop.platform.testing import free_port, free_port_offset, read_from  # noqa: E402
from driftloop_cli.demo.run import DemoConfig, DemoRun, run_demo, summary  # noqa: E402
from driftloop_cli.demo.stream import DriftingStream  # noqa: E402
from driftloop_cli.supervisor import Platform  # noqa: E402

SPEC = ROOT / "cli" / "src" / "driftloop_cli" / "specs" / "demo.yaml"
MiB = 1024 * 1024


def rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass
class Memory:
    idle: dict[str, int] = field(default_factory=dict)
    peak: dict[str, int] = field(default_factory=dict)

    def sample(self, platform: Platform, into: dict[str, int]) -> None:
        for name, child in platform.children.items():
            if child.process and child.process.returncode is None:
                into[name] = max(into.get(name, 0), rss(child.process.pid))
        if platform.broker and platform.broker.process:
            into["broker"] = max(into.get("broker", 0), rss(platform.broker.process.pid))


async def scenario(drift: str, duration: float, rate: float, delay: float) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"driftloop-bench-{drift}-"))
    settings = ServiceSettings(
        data_dir=tmp / "var",
        port_offset=free_port_offset(),
        kafka=KafkaSettings(embedded_port=free_port()),
    )
    platform = Platform(settings, SPEC, settings.data_dir)
    memory = Memory()
    await platform.start()
    try:
        await asyncio.sleep(5)  # idle: every service started and settled
        memory.sample(platform, memory.idle)

        async def sampler() -> None:
            while True:
                memory.sample(platform, memory.peak)
                await asyncio.sleep(2)

        task = asyncio.create_task(sampler())
        config = DemoConfig(
            duration_s=duration, rate=rate, drift=drift, drift_at=0.4, label_delay_s=delay, seed=7
        )
        run = await run_demo(config, settings.kafka, settings.address_of)
        task.cancel()
        result = summary(run)
        result["memory"] = {"idle": memory.idle, "peak": memory.peak}
        result["baselines"] = await baselines(run, platform, config, rate)
    finally:
        await platform.stop()
    return result


async def baselines(run: DemoRun, platform: Platform, config: DemoConfig, rate: float) -> dict:
    """Prequential accuracy over the records the platform answered."""
    from river import forest

    total = int(config.duration_s * rate)
    stream = DriftingStream(
        drift=config.drift, drift_at=int(total * config.drift_at), seed=config.seed, run_id="x"
    )
    records = list(stream.take(total))
    answered = {s.index: s for s in run.samples}
    platform_acc = np.mean([s.label == s.predicted for s in run.samples]) if run.samples else 0

    # (b) ARF and (c) no-change, prequential over every record, scored where the
    # platform answered.
    arf = forest.ARFClassifier(seed=config.seed)
    arf_hits, nochange_hits, scored = 0, 0, 0
    previous = 0
    for r in records:
        x = {k: v for k, v in r.fields.items() if k != "customer_id"}
        guess = arf.predict_one(x)
        if r.index in answered:
            scored += 1
            arf_hits += int(guess == r.label)
            nochange_hits += int(previous == r.label)
        arf.learn_one(x, r.label)
        previous = r.label

    # (a) the first champion, never retrained, on the same feature vectors.
    first = await first_model_accuracy(run, platform)
    return {
        "platform": round(float(platform_acc), 4),
        "first_model_never_retrained": first,
        "river_arf_online": round(arf_hits / scored, 4) if scored else None,
        "no_change": round(nochange_hits / scored, 4) if scored else None,
        "records_scored": scored,
    }


async def first_model_accuracy(run: DemoRun, platform: Platform) -> float | None:
    import grpc
    import onnxruntime as ort

    from driftloop.platform.grpc_client import channel
    from driftloop.registry.v1 import registry_service_pb2 as reg
    from driftloop.registry.v1 import registry_service_pb2_grpc

    champions = [e for e in run.timeline.of("AliasChanged") if e.body.get("alias") == "champion"]
    if not champions:
        return None
    version = int(champions[0].body["version"])
    async with channel(platform.settings.address_of("registry")) as ch:
        stub = registry_service_pb2_grpc.RegistryServiceStub(ch)
        try:
            chunks = [
                c.data
                async for c in stub.DownloadArtifact(
                    reg.DownloadArtifactRequest(model=run.config.model, version=version)
                )
            ]
        except grpc.aio.AioRpcError:
            return None
    session = ort.InferenceSession(b"".join(chunks), providers=["CPUExecutionProvider"])
    vectors = await read_from(
        platform.settings.kafka, topics.FEATURES.name, None, timeout_s=30, idle_s=2
    )
    by_record = {}
    for r in vectors:
        v = FeatureVectorComputed.FromString(r.value)
        by_record[v.record_id] = v.values
    xs, ys = [], []
    for sample in run.samples:
        if sample.record_id in by_record:
            xs.append(by_record[sample.record_id])
            ys.append(sample.label)
    if not xs:
        return None
    out = session.run(["label"], {"input": np.asarray(xs, dtype=np.float32)})[0]
    return round(float(np.mean(out.reshape(-1) == np.asarray(ys))), 4)


_TIMINGS = ("detection", "candidate", "verdict", "promotion")


def _table(head: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def render(results: dict[str, dict], quick: bool) -> str:
    lines = ["## The closed loop (issue 9)\n"]
    lines.append(
        "Loop timings at 200 records/s with a 5 s label delay "
        "(seconds after the drift onset; goal: onset → promotion ≤ 90 s):\n"
    )
    lines += _table(
        ["stream", "→ detection", "→ candidate", "→ verdict", "→ promotion", "verdict"],
        [
            [drift, *(r["timings_s"][f"onset_to_{k}"] for k in _TIMINGS), r["verdict"]]
            for drift, r in results.items()
        ],
    )
    lines.append(
        "\nAdaptation: prequential accuracy over the records the platform answered "
        "(goal: well above (a), ≥ 0.9× (b), above (c)):\n"
    )
    rows = []
    for drift, r in results.items():
        b = r["baselines"]
        ratio = (
            round(b["platform"] / b["river_arf_online"], 3) if b.get("river_arf_online") else None
        )
        rows.append(
            [
                drift,
                b["platform"],
                b["first_model_never_retrained"],
                b["river_arf_online"],
                b["no_change"],
                ratio,
                b["records_scored"],
            ]
        )
    lines += _table(
        [
            "stream",
            "driftloop",
            "(a) first model",
            "(b) river ARF",
            "(c) no-change",
            "driftloop / (b)",
            "records scored",
        ],
        rows,
    )
    lines.append(
        "\nWhat the demo's OIP v2 client did with each record (it looks up the "
        "record's online vector, then calls ModelInfer): *superseded* means the "
        "entity's newest vector was already a later record's when looked up, "
        "*no model yet* that serving had no champion (before the first training).\n"
    )
    counts = ["accepted", "predicted", "no_model_yet", "superseded", "gave_up"]
    lines += _table(
        ["stream", "records", "answered", "no model yet", "superseded", "gave up", "failed"],
        [
            [drift, *(r["counts"][k] for k in counts), r["counts"]["prediction_failures"]]
            for drift, r in results.items()
        ],
    )
    lines.append("\nMemory (RSS, MiB; goal ≤ 250 per service idle, ≤ 1.5 GiB in all):\n")
    mem = next(iter(results.values()))["memory"]
    idle, peak = mem["idle"], mem["peak"]
    lines += _table(
        ["process", "idle", "peak under the loop"],
        [[n, f"{idle[n] / MiB:.0f}", f"{peak.get(n, 0) / MiB:.0f}"] for n in idle]
        + [
            [
                "**total**",
                f"{sum(idle.values()) / MiB:.0f}",
                f"{sum(peak.values()) / MiB:.0f}",
            ]
        ],
    )
    if quick:
        lines.append("\n(quick mode: the abrupt stream only, shorter run)")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--label-delay", type=float, default=5.0)
    args = parser.parse_args()
    kinds = ["abrupt"] if args.quick else ["abrupt", "gradual", "recurring"]
    duration = 150.0 if args.quick else 240.0
    results = {}
    for kind in kinds:
        started = time.monotonic()
        results[kind] = asyncio.run(scenario(kind, duration, args.rate, args.label_delay))
        print(f"{kind}: {time.monotonic() - started:.0f}s", flush=True)
    (ROOT / "bench" / "results" / "loop.json").write_text(
        json.dumps(
            {k: {x: y for x, y in v.items() if x != "events"} for k, v in results.items()},
            indent=2,
            default=str,
        )
    )
    out = ROOT / "bench" / "results" / "loop.md"
    out.write_text(render(results, args.quick))
    print(out.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
