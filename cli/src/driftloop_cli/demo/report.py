"""The demo's report: an HTML page with PNG plots (rolling accuracy with the
loop's milestones, traffic share per version, label lag) and the summary."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from driftloop_cli.demo.run import DemoRun

MARKERS = {
    "DriftDetected": ("drift detected", "tab:red"),
    "TrainingCompleted": ("training done", "tab:purple"),
    "RolloutStarted": ("canary start", "tab:orange"),
    "RolloutDecided": ("verdict", "tab:brown"),
    "RolloutCompleted": ("promotion / rollback", "tab:green"),
}


def _rolling(values: list[int], window: int) -> list[float]:
    out, acc = [], 0
    for i, v in enumerate(values):
        acc += v
        if i >= window:
            acc -= values[i - window]
        out.append(acc / min(i + 1, window))
    return out


def write_report(run: DemoRun, summary: dict[str, Any], folder: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    samples = run.samples
    times = [s.at for s in samples]

    fig, ax = plt.subplots(figsize=(11, 4))
    ax.plot(
        times,
        _rolling([int(s.label == s.predicted) for s in samples], 200),
        label="rolling accuracy (200 predictions)",
    )
    if run.onset_at is not None:
        ax.axvline(run.onset_at, color="black", linestyle="--", label="drift onset")
    seen: set[str] = set()
    for e in run.timeline.events:
        if e.type in MARKERS:
            name, color = MARKERS[e.type]
            ax.axvline(e.at, color=color, alpha=0.7, label=None if name in seen else name)
            seen.add(name)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("seconds")
    ax.set_ylabel("accuracy of served predictions")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "accuracy.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(11, 3))
    versions = sorted({s.version for s in samples})
    buckets: dict[int, dict[str, int]] = {}
    for s in samples:
        buckets.setdefault(int(s.at // 5), {}).setdefault(s.version, 0)
        buckets[int(s.at // 5)][s.version] += 1
    xs = sorted(buckets)
    bottom = [0.0] * len(xs)
    for v in versions:
        share = [buckets[x].get(v, 0) / sum(buckets[x].values()) for x in xs]
        ax.bar([x * 5 for x in xs], share, width=5, bottom=bottom, label=f"v{v}", align="edge")
        bottom = [b + s for b, s in zip(bottom, share, strict=True)]
    ax.set_xlabel("seconds")
    ax.set_ylabel("traffic share")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "traffic.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(11, 3))
    ax.hist(run.label_lags or [0.0], bins=30)
    ax.set_xlabel("seconds from ingesting a record to sending its label")
    ax.set_ylabel("labels")
    fig.tight_layout()
    fig.savefig(folder / "label_lag.png", dpi=110)
    plt.close(fig)

    rows = "\n".join(
        f"<tr><td>{e['at']:.1f}</td><td>{html.escape(e['type'])}</td>"
        f"<td>{html.escape(e['what'])}</td><td><code>{e['event_id'][:12]}</code></td>"
        f"<td><code>{e['causation_id'][:12]}</code></td></tr>"
        for e in summary["events"]
    )
    page = f"""<!doctype html><meta charset="utf-8"><title>driftloop demo report</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}
td,th{{padding:2px 8px;text-align:left}} pre{{background:#f4f4f4;padding:1em}}</style>
<h1>driftloop demo report</h1>
<h2>Summary</h2><pre>{
        html.escape(json.dumps({k: v for k, v in summary.items() if k != "events"}, indent=2))
    }</pre>
<h2>Rolling accuracy and the loop</h2><img src="accuracy.png" width="100%">
<h2>Traffic share per version</h2><img src="traffic.png" width="100%">
<h2>Label lag</h2><img src="label_lag.png" width="100%">
<h2>Loop events</h2><table><tr><th>s</th><th>event</th><th>what</th><th>id</th>
<th>caused by</th></tr>{rows}</table>
"""
    path = folder / "report.html"
    path.write_text(page)
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return path
