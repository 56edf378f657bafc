"""The demo's report: one HTML page that tells the story at a glance — a
headline (drift, detection, promotion, accuracy before → after → recovered),
then three plots on one time axis (accuracy with the loop's milestones, who
served each prediction, the platform's lag from record to prediction), the
verdict's evidence and the loop's events."""

from __future__ import annotations

import html
import json
import statistics
from pathlib import Path
from typing import Any

from driftloop_cli.demo.run import DemoRun

#: Milestones: label, colour and line style, so that two on one pixel stay apart.
MARKERS: dict[str, tuple[str, str, Any]] = {
    "DriftDetected": ("drift detected", "tab:red", "-"),
    "TrainingCompleted": ("training done", "tab:purple", ":"),
    "RolloutStarted": ("canary start", "tab:orange", "-."),
    "RolloutDecided": ("verdict", "tab:brown", "--"),
    "RolloutCompleted": ("rollout done", "tab:green", (0, (1, 1))),
}


def _rolling(values: list[int], window: int) -> list[float]:
    out, acc = [], 0
    for i, v in enumerate(values):
        acc += v
        if i >= window:
            acc -= values[i - window]
        out.append(acc / min(i + 1, window))
    return out


def headline(summary: dict[str, Any]) -> str:
    """One sentence: drift at X s, detected in Y s, promoted in Z s, accuracy A → B → C."""
    t, a = summary["timings_s"], summary["accuracy"]

    def acc(x: float | None) -> str:
        return "–" if x is None else f"{x:.2f}"

    if t["drift_onset_at"] is None:
        parts = ["No drift in this run"]
    else:
        parts = [f"Drift at {t['drift_onset_at']:.0f} s"]
        if t["onset_to_detection"] is not None:
            parts.append(f"detected {t['onset_to_detection']:.0f} s later")
        if t["onset_to_promotion"] is not None:
            parts.append(f"new model promoted {t['onset_to_promotion']:.0f} s after the drift")
        elif summary["verdict"]:
            parts.append(f"verdict {summary['verdict']} {t['onset_to_verdict']:.0f} s after it")
    if all(x is None for x in a.values()):
        return ", ".join(parts) + "; no prediction was answered."
    accuracy = (
        f"accuracy {acc(a['before_drift'])} → {acc(a['right_after_drift'])} → "
        f"{acc(a['after_recovery'])} (before → after the drift → recovered)"
    )
    return ", ".join(parts) + "; " + accuracy + "."


def _plots(run: DemoRun, folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = run.samples
    end = max([run.ended_at, *(s.at for s in samples), 1.0])
    fig, (acc_ax, who_ax, lag_ax) = plt.subplots(
        3, 1, figsize=(11, 8.5), sharex=True, gridspec_kw={"height_ratios": [3, 1.4, 1.6]}
    )
    acc_ax.plot(
        [s.at for s in samples],
        _rolling([int(s.label == s.predicted) for s in samples], 200),
        color="tab:blue",
        label="rolling accuracy (last 200 predictions)",
    )
    acc_ax.set_ylim(0, 1.15)
    acc_ax.set_ylabel("accuracy")

    # Who served: each prediction as a tick in its version's row.
    versions = sorted({s.version for s in samples}, key=lambda v: int(v or 0))
    for row, version in enumerate(versions):
        xs = [s.at for s in samples if s.version == version]
        who_ax.scatter(xs, [row] * len(xs), marker="|", s=60, label=f"v{version}")
    who_ax.set_yticks(range(len(versions)), [f"v{v}" for v in versions])
    who_ax.set_ylim(-0.7, max(len(versions), 1) - 0.3)
    who_ax.set_ylabel("served by")

    lags = [
        (s.at, s.at - run.accepted_at[s.record_id])
        for s in samples
        if s.record_id in run.accepted_at
    ]
    lag_ax.plot([x for x, _ in lags], [y * 1000 for _, y in lags], ".", ms=2, color="tab:gray")
    lag_ax.set_ylabel("record → prediction\n(ms)")
    lag_ax.set_ylim(bottom=0)
    lag_ax.ticklabel_format(axis="y", useOffset=False, style="plain")
    lag_ax.set_xlabel("seconds since the demo started")
    lag_ax.set_xlim(0, end)

    milestones: list[tuple[float, str, str, Any]] = (
        [(run.onset_at, "drift onset", "black", "--")] if run.onset_at else []
    )
    milestones += [(e.at, *MARKERS[e.type]) for e in run.timeline.events if e.type in MARKERS]
    for i, (at, name, color, style) in enumerate(sorted(milestones, key=lambda m: m[0])):
        for ax in (acc_ax, who_ax, lag_ax):
            ax.axvline(at, color=color, linestyle=style, linewidth=1.4, alpha=0.85)
        # Labels at staggered heights, so that markers on one pixel stay readable.
        acc_ax.annotate(
            name,
            (at, 1.13 - 0.07 * (i % 4)),
            xytext=(3, 0),
            textcoords="offset points",
            fontsize=8,
            color=color,
            va="top",
        )
    acc_ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "timeline.png", dpi=100)
    plt.close(fig)


def _lag_summary(run: DemoRun) -> str:
    lags = sorted(
        s.at - run.accepted_at[s.record_id] for s in run.samples if s.record_id in run.accepted_at
    )
    if not lags:
        return "no predictions"
    p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
    return (
        f"median {statistics.median(lags) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms "
        f"over {len(lags)} predictions (the record's vector computed, stored online and served)"
    )


def write_report(run: DemoRun, summary: dict[str, Any], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _plots(run, folder)
    c = summary["counts"]
    facts = [
        ("verdict", summary["verdict"] or "none"),
        ("evidence behind it", summary["verdict_evidence"] or "–"),
        ("retrains after the drift", summary["retrains_after_onset"]),
        ("platform lag, record → prediction", _lag_summary(run)),
        (
            "records",
            f"{c['sent']} sent: {c['predicted']} predicted, {c['no_model_yet']} before the "
            f"first model, {c['superseded']} superseded, {c['prediction_failures']} failed",
        ),
        ("labels sent", f"{c['labels_sent']}, {run.config.label_delay_s:g} s after each record"),
    ]
    if summary["unfinished"]:
        facts.insert(0, ("ended early", summary["unfinished"]))
    fact_rows = "\n".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in facts
    )
    rows = "\n".join(
        f"<tr><td>{e['at']:.1f} s</td><td>{html.escape(e['what'])}</td>"
        f"<td><code>{e['event_id'][:12]}</code></td>"
        f"<td><code>{e['causation_id'][:12]}</code></td></tr>"
        for e in summary["events"]
    )
    page = f"""<!doctype html><meta charset="utf-8"><title>driftloop demo report</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:1.5em auto;color:#222}}
.headline{{font-size:1.35em;line-height:1.4;background:#eef5ff;padding:.6em .9em;border-radius:6px}}
td,th{{padding:2px 10px;text-align:left;vertical-align:top}} th{{color:#555;font-weight:normal}}
img{{width:100%}}</style>
<h1>driftloop demo report</h1>
<p class="headline">{html.escape(headline(summary))}</p>
<table>{fact_rows}</table>
<h2>The run on one time axis</h2>
<p>Top: accuracy of the served predictions, with the loop's milestones. Middle: which model
version answered each prediction (champion and canary). Bottom: the platform's lag from
ingesting a record to answering its prediction.</p>
<img src="timeline.png" alt="accuracy, serving versions and lag over time">
<h2>What the platform did</h2>
<table><tr><th>at</th><th>event</th><th>id</th><th>caused by</th></tr>{rows}</table>
<p>Everything above in machine-readable form: <a href="summary.json">summary.json</a>.</p>
"""
    path = folder / "report.html"
    path.write_text(page)
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return path
