"""Feature state benchmark (issue 15 item 6): N distinct entities through the
feature service's processing path, before and after bounded state and
incremental checkpoints, in one run.

Each case is a fresh Python process that drives the service's
``FeatureProcessor`` directly — batches of 2,000 records (the service's
default batch) through ``handle`` and ``flush``, the real SQLite checkpoint
store in a temporary data dir, checkpoints every 5 s (the default), the
in-memory online store (the single-replica default) — on uvloop, as the
service runs. Kafka is left out (a publisher that drops the vectors and a log
with nothing to replay): through the broker, 1M records take far longer than
a few minutes on 2 cores, and the broker does not change what is measured.
The "before" code is the feature service of ``--before`` (default: the last
commit before bounded state, ``BEFORE``), checked out into a temporary git worktree and put first on
``sys.path``; the platform library is this tree's in both cases.

Measured per case: peak and final resident memory (VmHWM / VmRSS), the
longest event-loop stall (a probe task sleeps 1 ms in a loop and records the
largest overshoot), the longest batch (handling 2,000 records, which stalls
the loop in both versions) and the checkpoints (count, longest, total; the
final one at stop included).

    uv run python bench/feature_state.py --quick    # 50k entities
    uv run python bench/feature_state.py            # 1M entities
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
FEATURE_SRC = Path("services") / "feature" / "src"
BATCH = 2000
#: The last commit of main with unbounded state and whole-partition checkpoints.
BEFORE = "97b8d9eae7e0"
TTL_S = 60.0

CASES = {
    "before": ("before", None, "before: unbounded state, whole partitions pickled on the loop"),
    "after": ("after", None, "after: no TTL (default max_entities), incremental checkpoints"),
    "after-ttl": ("after", TTL_S, f"after: entity_ttl_s={TTL_S:g} (event time)"),
}


def spec_text(ttl: float | None) -> str:
    """The view of bench/feature.py (3 rolling aggregates), with the TTL."""
    from feature import SPEC  # bench/feature.py, next to this file

    text = SPEC.format(stream="tx")
    if ttl:
        lateness = "allowed_lateness_s: 30"
        text = text.replace(lateness, f"{lateness}\n    entity_ttl_s: {ttl}")
    return text


def memory() -> dict[str, int]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) * 1024
    return out


class LoopWatch:
    """The event loop's stalls (a 1 ms sleep's overshoots beyond 1 ms, as
    (start, end)) and the garbage collector's pauses while it runs."""

    def __init__(self) -> None:
        self.stalls: list[tuple[float, float]] = []
        self.gc_pauses = [0.0]
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        gc.callbacks.append(self._on_gc)
        self._task = asyncio.create_task(self._probe())
        await asyncio.sleep(0.01)

    def stop(self) -> tuple[list[tuple[float, float]], list[float]]:
        assert self._task is not None
        self._task.cancel()
        gc.callbacks.remove(self._on_gc)
        return self.stalls, self.gc_pauses

    async def _probe(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.001)
            end = time.perf_counter()
            if end - start > 0.002:
                self.stalls.append((start + 0.001, end))

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self.gc_pauses.append(-time.perf_counter())
        else:
            self.gc_pauses[-1] += time.perf_counter()


async def drive(entities: int, partitions: int, ttl: float | None, data: Path) -> dict:
    """One case, in this process: the processor over ``entities`` records."""
    from driftloop.platform.spec import parse_spec
    from driftloop_feature.adapters.checkpoints import SqliteCheckpointStore
    from driftloop_feature.adapters.memory_store import InMemoryOnlineStore
    from driftloop_feature.domain.model import Record
    from driftloop_feature.domain.views import compile_spec
    from driftloop_feature.service.processor import FeatureProcessor

    class Dropped:
        def vector(self, vector: object) -> None: ...
        def rejection(self, rejection: object) -> None: ...
        async def flush(self) -> None: ...

    class EmptyLog:
        async def end_offset(self, partition: int) -> int:
            return 0

        async def replay(self, partition: int, start: int | None, end: int):
            return
            yield

    views = compile_spec(parse_spec(spec_text(ttl)))
    checkpoints = SqliteCheckpointStore(data / "checkpoints.sqlite", "t", "g", views)
    proc = FeatureProcessor(views, Dropped(), InMemoryOnlineStore(), checkpoints, EmptyLog())
    windows: list[tuple[float, float]] = []  # checkpoints (start, end)
    original = proc.checkpoint
    if inspect.iscoroutinefunction(original):

        async def timed() -> None:
            start = time.perf_counter()
            await original()
            windows.append((start, time.perf_counter()))

    else:

        def timed() -> None:  # type: ignore[misc]
            start = time.perf_counter()
            original()
            windows.append((start, time.perf_counter()))

    proc.checkpoint = timed  # type: ignore[method-assign]
    watch = LoopWatch()
    await watch.start()
    offsets = [0] * partitions
    longest_batch = 0.0
    began, cpu = time.perf_counter(), time.process_time()
    t0 = 1_700_000_000_000_000_000
    for first in range(0, entities, BATCH):
        start = time.perf_counter()
        for i in range(first, min(first + BATCH, entities)):
            p = i % partitions
            user = f"u{i}"
            rec = Record(f"r{i}", "tx", user, t0 + i * 1_000_000, {"user": user, "amount": i % 97})
            await proc.handle(rec, p, offsets[p])
            offsets[p] += 1
        longest_batch = max(longest_batch, time.perf_counter() - start)
        await asyncio.sleep(0.001)  # the probe notes the batch's stall apart from the flush's
        await proc.flush()
        await asyncio.sleep(0.001)  # the consumer's next fetch: other tasks run
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    final = proc.checkpoint()  # at stop
    if inspect.isawaitable(final):
        await final
    await asyncio.sleep(0.01)  # the probe notes the final checkpoint's stall
    stalls, gc_pauses = watch.stop()
    checkpoints.close()
    kept = sum(len(s.entities) for st in proc._states.values() for s in st.views.values())
    checkpoint_times = [e - s for s, e in windows]
    in_checkpoints = [e - s for s, e in stalls if any(s < we and ws < e for ws, we in windows)]
    return {
        "entities": entities,
        "kept": kept,
        "records_per_s": entities / elapsed,
        "cpu_us_per_record": cpu / entities * 1e6,
        "rss": memory()["VmRSS"],
        "peak_rss": memory()["VmHWM"],
        "longest_stall_s": max((e - s for s, e in stalls), default=0.0),
        "longest_checkpoint_stall_s": max(in_checkpoints, default=0.0),
        "longest_batch_s": longest_batch,
        "longest_gc_s": max(gc_pauses),
        "checkpoints": len(checkpoint_times),
        "checkpoint_max_s": max(checkpoint_times, default=0.0),
        "checkpoint_total_s": sum(checkpoint_times),
        "checkpoint_db_bytes": (data / "checkpoints.sqlite").stat().st_size,
    }


def child(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(args.tree) / FEATURE_SRC))
    # As the service runtime does (DRIFTLOOP_GC_THRESHOLD's default).
    gc.set_threshold(50_000, *gc.get_threshold()[1:])
    gc.collect()
    gc.freeze()
    import uvloop

    import driftloop_feature

    assert Path(driftloop_feature.__file__).is_relative_to(args.tree), driftloop_feature.__file__
    with tempfile.TemporaryDirectory(prefix="bench-feature-state-") as data:
        result = uvloop.run(drive(args.entities, args.partitions, args.ttl, Path(data)))
    print(json.dumps(result))


def run_case(tree: Path, entities: int, partitions: int, ttl: float | None) -> dict:
    cmd = [sys.executable, __file__, "--child", "--tree", str(tree)]
    cmd += ["--entities", str(entities), "--partitions", str(partitions)]
    cmd += ["--ttl", str(ttl)] if ttl else []
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def report(results: dict[str, dict], args: argparse.Namespace, before: str) -> str:
    mib = 1024 * 1024
    lines = [
        "## feature state\n",
        f"{args.entities:,} distinct entities (one record each, event times 1 ms apart) "
        f"through `FeatureProcessor` directly (no broker), {args.partitions} partitions, "
        f"batches of {BATCH}, checkpoints every 5 s into SQLite, in-memory online store, "
        f"uvloop; each case its own process, run one after the other. Before = `{before}`.\n",
        "| case | entities kept | records/s | CPU µs/record | peak RSS MiB | end RSS MiB "
        "| longest loop stall s "
        "| longest stall in a checkpoint s | longest batch s | longest GC s | checkpoints "
        "| longest checkpoint s | checkpoint total s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {CASES[name][2]} | {r['kept']:,} | {r['records_per_s']:,.0f} "
            f"| {r['cpu_us_per_record']:.0f} "
            f"| {r['peak_rss'] / mib:,.0f} | {r['rss'] / mib:,.0f} | {r['longest_stall_s']:.3f} "
            f"| {r['longest_checkpoint_stall_s']:.3f} "
            f"| {r['longest_batch_s']:.3f} | {r['longest_gc_s']:.3f} | {r['checkpoints']} "
            f"| {r['checkpoint_max_s']:.2f} "
            f"| {r['checkpoint_total_s']:.1f} |"
        )
    lines.append(
        "\nA stall is the event loop doing nothing else (no lookup, no health check answered). "
        "Before, a checkpoint runs on the loop, so its length is a stall; after, it is awaited "
        "by the consumer only, its SQLite writes and pickling in the store's thread. The "
        "longest batch (2,000 records handled) is the floor of the stall in every version; "
        "its length is mostly the longest garbage collection (a full collection visits every "
        "live object, so it grows with the entities kept). RSS includes the in-memory online "
        "store (one vector per entity, never evicted). The machine is shared: compare cases "
        "of one run; the before case's stalls and checkpoints grow with its whole state."
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50k entities")
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--before", default=BEFORE, help="git revision of the 'before' code")
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tree", help=argparse.SUPPRESS)
    parser.add_argument("--ttl", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    if args.quick:
        args.entities = 50_000
    git = ["git", "-C", str(ROOT)]
    before = args.before
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-before-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run([*git, "worktree", "add", "-q", "--detach", str(tree), before], check=True)
        try:
            for name in args.cases:
                which, ttl = CASES[name][:2]
                case_tree = tree if which == "before" else ROOT
                print(f"-- {name}", flush=True)
                results[name] = run_case(case_tree, args.entities, args.partitions, ttl)
                print(json.dumps(results[name]), flush=True)
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(tree)], check=True)
    suffix = "-quick" if args.quick else ""
    (RESULTS / f"feature_state{suffix}.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / f"feature_state{suffix}.md").write_text(report(results, args, before[:12]))
    print(report(results, args, before[:12]))


if __name__ == "__main__":
    main()
