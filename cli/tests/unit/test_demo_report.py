"""The demo's summary, screen and report from a made-up run: the counts add
up, a run that ended early says why, and the report renders in a real
browser (headless Chromium) with its headline and plots."""

import shutil
import subprocess
import tempfile

import pytest

from driftloop_cli.demo.command import _parts
from driftloop_cli.demo.report import headline, write_report
from driftloop_cli.demo.run import Counters, DemoConfig, DemoRun, Sample, summary, waiting_for
from driftloop_cli.demo.timeline import LoopEvent


def _event(at, type_, **body):
    return LoopEvent(at, type_, f"id-{type_}-{at}", "cause", "corr", body)


def _run(verdict: bool = True) -> DemoRun:
    run = DemoRun(DemoConfig(duration_s=200, rate=10, label_delay_s=5))
    run.onset_at = 100.0
    events = [
        _event(20, "AliasChanged", alias="champion", version="1", previous_version="0"),
        _event(
            118,
            "DriftDetected",
            kind="DRIFT_KIND_CONCEPT",
            detector="adwin",
            statistic=0.4,
            threshold=0.1,
        ),
        _event(119, "TrainingRequested", trigger="TRIGGER_DRIFT", window={"min_rows": "800"}),
    ]
    if verdict:
        events += [
            _event(135, "TrainingStarted", snapshot={"rows": "812"}),
            _event(140, "TrainingCompleted", version="2", gate_passed=True),
            _event(140.1, "AliasChanged", alias="candidate", version="2", previous_version="0"),
            _event(140.2, "RolloutStarted", candidate_share=0.1),
            _event(
                170,
                "RolloutDecided",
                verdict="VERDICT_PROMOTE",
                evidence={
                    "metric": "accuracy",
                    "candidate_value": 0.93,
                    "champion_value": 0.52,
                    "candidate_samples": "310",
                    "champion_samples": "2790",
                    "p_value": 9.09e-302,
                },
            ),
            _event(170.1, "AliasChanged", alias="champion", version="2", previous_version="1"),
            _event(171, "RolloutCompleted", verdict="VERDICT_PROMOTE", champion={"version": "2"}),
        ]
    for e in events:
        run.timeline.events.append(e)
    run.timeline.champion = 2 if verdict else 1
    for i in range(1900):
        at = 10 + i * 0.1
        version = "2" if verdict and (at > 171 or (at > 140 and i % 10 == 0)) else "1"
        concept_ok = at < 100 or version == "2"
        label = i % 2
        run.samples.append(
            Sample(
                at, i, f"r{i}", 0, label, label if concept_ok or i % 2 else 1 - label, version, ""
            )
        )
        run.accepted_at[f"r{i}"] = at - 0.05
    run.ended_at = 200.0 if verdict else 125.0
    c = run.counters
    c.sent, c.accepted, c.predicted = 2000, 2000, 1900
    c.no_model_yet, c.superseded = 60, 40
    return run


def test_the_counts_on_screen_add_up_to_what_was_sent():
    c = Counters(
        sent=100, predicted=70, no_model_yet=10, superseded=12, prediction_failures=3, in_flight=5
    )
    assert c.accounted() == c.sent
    assert sum(n for _, n in _parts(c)) == c.sent
    c.gave_up, c.sent = 2, 102
    assert sum(n for _, n in _parts(c)) == c.sent  # a rare term shows once it happens


def test_the_summary_speaks_words_and_a_short_run_says_why():
    done = summary(_run())
    assert done["verdict"] == "promote"
    assert "p < 0.0001" in done["verdict_evidence"]
    assert done["unfinished"] is None
    short = _run(verdict=False)
    cut = summary(short)
    assert cut["verdict"] is None
    assert "ended at 125 s" in cut["unfinished"]
    assert "800 labelled rows" in cut["unfinished"]
    assert "800 labelled rows" in waiting_for(short)


def test_the_headline_tells_the_story():
    text = headline(summary(_run()))
    assert text.startswith("Drift at 100 s, detected 18 s later, new model promoted 70 s after")
    assert "accuracy" in text and "→" in text
    empty = DemoRun(DemoConfig())
    empty.onset_at, empty.ended_at = 33.0, 84.0
    assert headline(summary(empty)) == "Drift at 33 s; no prediction was answered."


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")
def test_the_report_renders_in_a_browser(tmp_path):
    run = _run()
    path = write_report(run, summary(run), tmp_path / "report")
    shot = tmp_path / "report.png"
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--window-size=1200,1600",
                f"--screenshot={shot}",
                path.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
    assert done.returncode == 0, done.stderr
    from PIL import Image

    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 1600)
    # The page is not blank: the headline's tint and the plot's lines are there.
    colours = image.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 50
    assert any(rgb == (238, 245, 255) for _, rgb in colours)  # the headline box
    shutil.copy(shot, path.parent / "screenshot.png")  # for a person to look at


def test_without_a_terminal_the_demo_prints_each_event_once_with_what_it_waits_for(capsys):
    from driftloop_cli.demo.command import _EventLines

    run = _run(verdict=False)
    lines = _EventLines()
    lines(run)
    lines(run)  # nothing new: nothing printed
    err = capsys.readouterr().err.splitlines()
    assert len([line for line in err if "training requested (drift)" in line]) == 1
    assert err[-1].strip().startswith("waiting for: labelled rows for the training window")
