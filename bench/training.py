"""Training: what a driftloop run costs next to training by hand.

Two cases on the same labelled rows (synthetic, 20 float features, binary
label), alternated A/B and repeated, for two built-in trainers:

- ``by-hand`` (the peer): in one process, fit the scikit-learn estimator on the
  same time-ordered train split, export with skl2onnx and score the holdout
  with onnxruntime — the least work that produces the same artifact;
- ``driftloop``: a manual run through the service's use case — snapshot from
  the SQLite offline store, train in a spawned worker process (timeout and
  memory limit), check the ONNX, score new model and champion on the holdout,
  build the reference profile, register (client streaming) with a fake
  in-process registry over real gRPC, and gate.

Both produce the same predictions (checked). Reported: median wall seconds per
run, the ratio driftloop / by-hand, and the overhead in seconds. Also the
offline store's ingest rate (vector + label per row) and join read rate.

    uv run python bench/training.py --quick    # seconds per case
    uv run python bench/training.py            # more rows, 3 rounds
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# One OpenMP thread on both sides (inherited by the worker processes): on 2
# shared cores, OpenMP's spinning threads made HistGradientBoosting timings
# swing 10x between rounds.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "services/training/tests"))  # the fake registry harness

WIDTH = 20
TRAINERS = ("logistic_regression", "hist_gradient_boosting")


def spec_yaml(trainer: str, rows: int) -> str:
    features = "\n".join(
        f"      - {{name: f{i}, kind: passthrough, field: x}}" for i in range(WIDTH)
    )
    return f"""
api_version: driftloop/v1
streams:
  - name: s
    entity_field: e
    fields:
      - {{name: e, type: string}}
      - {{name: x, type: float}}
    label: {{type: int}}
feature_views:
  - name: v
    stream: s
    features:
{features}
models:
  - name: m
    feature_view: v
    trainer: {{builtin: {trainer}, seed: 7, timeout_s: 600}}
    training: {{min_rows: {min(rows, 500)}, window: all, max_runs_per_hour: 1000}}
"""


def data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, WIDTH))
    w = rng.normal(size=WIDTH)
    y = (X @ w + rng.normal(scale=0.5, size=n) > 0).astype(int)
    t0 = datetime.now(UTC) - timedelta(hours=1)
    return X, y, [t0 + timedelta(milliseconds=10 * i) for i in range(n)]


def by_hand(trainer: str, X: np.ndarray, y: np.ndarray, holdout: int) -> tuple[float, np.ndarray]:
    import onnxruntime as ort

    from driftloop_training.adapters.trainers import builtin_estimator, to_onnx

    start = time.perf_counter()
    Xf = X.astype(np.float32)
    model = builtin_estimator("classification", trainer, {}, 7)
    model.fit(Xf[:-holdout], y[:-holdout])
    artifact = to_onnx(model, "classification", WIDTH)
    session = ort.InferenceSession(artifact, providers=["CPUExecutionProvider"])
    probs = session.run(["probabilities"], {"input": Xf[-holdout:]})[0]
    return time.perf_counter() - start, probs


class TimedTrainer:
    """Wraps the worker trainer to split a run's time: worker vs the rest."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.last_s = 0.0

    async def train(self, job):
        start = time.perf_counter()
        try:
            return await self.inner.train(job)
        finally:
            self.last_s = time.perf_counter() - start


async def driftloop_run(h, trainer: str, holdout_X: np.ndarray) -> tuple[float, np.ndarray, dict]:
    import onnxruntime as ort

    from driftloop_training.domain.runs import RunState, Trigger

    start = time.perf_counter()
    run, decision = await h.runs.request("m", Trigger.MANUAL)
    assert run is not None, decision.reason
    await h.runs.wait_idle()
    seconds = time.perf_counter() - start
    done = h.store.get_run(run.run_id)
    assert done.state is RunState.COMPLETED, done.error
    artifact = h.fake.artifacts[("m", done.version)]
    session = ort.InferenceSession(artifact, providers=["CPUExecutionProvider"])
    probs = session.run(["probabilities"], {"input": holdout_X.astype(np.float32)})[0]
    phases = {
        "snapshot_s": (done.started_at - done.created_at).total_seconds(),
        "worker_s": h.runs.trainer.last_s,
    }
    return seconds, probs, phases


def store_rates(store, X, y, times) -> dict:
    names = [f"f{i}" for i in range(WIDTH)]
    now = datetime.now(UTC)
    start = time.perf_counter()
    for i in range(len(X)):
        store.put_vector(f"r{i}", "v", 1, f"e{i % 100}", times[i], names, X[i].tolist(), now)
        store.put_label(f"r{i}", float(y[i]), times[i], now)
    ingest = time.perf_counter() - start
    start = time.perf_counter()
    rows = store.labelled_rows("v", 1)
    read = time.perf_counter() - start
    assert len(rows) == len(X)
    return {
        "ingest_rows_per_s": round(len(X) / ingest),
        "join_read_rows_per_s": round(len(X) / read),
    }


async def main(args: argparse.Namespace) -> dict:
    from training_fakes import Harness

    X, y, times = data(args.rows)
    out: dict = {"rows": args.rows, "width": WIDTH, "rounds": args.rounds, "trainers": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for trainer in TRAINERS:
            h = await Harness(Path(tmp) / trainer, spec_yaml(trainer, args.rows)).start()
            try:
                rates = store_rates(h.store, X, y, times)
                h.runs.trainer = TimedTrainer(h.runs.trainer)
                holdout = round(args.rows * 0.2)
                # Warm-up, not counted: imports and first-call costs on both sides.
                by_hand(trainer, X, y, holdout)
                await driftloop_run(h, trainer, X[-holdout:])
                results: dict[str, list[float]] = {"by-hand": [], "driftloop": []}
                phases = []
                for r in range(args.rounds):
                    hand_s, hand_probs = by_hand(trainer, X, y, holdout)
                    dl_s, dl_probs, ph = await driftloop_run(h, trainer, X[-holdout:])
                    assert np.array_equal(hand_probs, dl_probs), "different predictions"
                    results["by-hand"].append(hand_s)
                    results["driftloop"].append(dl_s)
                    phases.append(ph)
                    print(
                        f"{trainer} round {r + 1}: by-hand {hand_s:.2f}s driftloop {dl_s:.2f}s",
                        file=sys.stderr,
                    )
                hand = statistics.median(results["by-hand"])
                dl = statistics.median(results["driftloop"])
                out["trainers"][trainer] = {
                    "by_hand_s": round(hand, 3),
                    "driftloop_s": round(dl, 3),
                    "ratio_driftloop_to_by_hand": round(dl / hand, 2),
                    "best_by_hand_s": round(min(results["by-hand"]), 3),
                    "best_driftloop_s": round(min(results["driftloop"]), 3),
                    "overhead_s": round(dl - hand, 2),
                    "snapshot_s": round(statistics.median(p["snapshot_s"] for p in phases), 3),
                    "worker_process_s": round(statistics.median(p["worker_s"] for p in phases), 2),
                    "same_predictions": True,
                    **rates,
                }
            finally:
                await h.stop()
    return out


def markdown(summary: dict, quick: bool) -> str:
    lines = [
        "## training\n",
        f"One manual run on {summary['rows']} labelled rows × {summary['width']} features "
        f"(median of {summary['rounds']} alternated rounds{', quick mode' if quick else ''}). "
        "Peer: fit + skl2onnx export + holdout scoring by hand in one process; driftloop adds "
        "the snapshot, a worker process with limits (forked from a pre-warmed fork server), "
        "the ONNX check, champion comparison, reference profile and registration over gRPC. "
        "Predictions are identical. The 2 cores are shared with other work: medians are noisy, "
        "best-of-rounds shown too. "
        "OMP_NUM_THREADS=1 on both sides.\n",
        "| trainer | by hand (s) | driftloop (s) | ratio | best by hand / driftloop (s) "
        "| worker process (s) | store ingest rows/s | join read rows/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, t in summary["trainers"].items():
        lines.append(
            f"| {name} | {t['by_hand_s']} | {t['driftloop_s']} | "
            f"{t['ratio_driftloop_to_by_hand']} | "
            f"{t['best_by_hand_s']} / {t['best_driftloop_s']} | {t['worker_process_s']} | "
            f"{t['ingest_rows_per_s']} | {t['join_read_rows_per_s']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3k rows, 3 rounds")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.quick:
        args.rows, args.rounds = 3000, 3
    summary = asyncio.run(main(args))
    print(json.dumps(summary, indent=2))
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "training.md").write_text(markdown(summary, args.quick))
    (results / "training.json").write_text(json.dumps(summary, indent=2) + "\n")
