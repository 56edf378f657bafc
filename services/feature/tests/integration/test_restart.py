"""kill -9 mid-stream and restart: every record's vector appears, with the
values of an uninterrupted run (after dedupe by event id)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftloop.platform import topics
from driftloop.platform.testing import end_offsets, unique, wait_for

from .support import (
    make_records,
    produce,
    read_dead_letters,
    read_vectors,
    start_feature,
    write_spec,
)

pytestmark = pytest.mark.integration

N = 20_000


async def test_kill_9_mid_stream_then_restart_matches_an_uninterrupted_run(
    kafka, tmp_path: Path
) -> None:
    stream = unique("s").replace("-", "_")
    features_start = await end_offsets(kafka, topics.FEATURES.name)
    dead_start = await end_offsets(kafka, topics.RECORDS_DEADLETTER.name)
    # Same definition under two names: `steady` runs uninterrupted, `crashy`
    # is killed and restarted; their vectors must be equal record by record.
    steady_spec = write_spec(tmp_path / "steady.yaml", stream, ["steady"])
    crashy_spec = write_spec(tmp_path / "crashy.yaml", stream, ["crashy"])
    steady, _ = start_feature(kafka, steady_spec, tmp_path / "steady", unique("g"))
    # No checkpoint before the crash: the restart must rebuild every
    # partition's state by replaying it up to the committed position.
    never = {"DRIFTLOOP_FEATURE_CHECKPOINT_INTERVAL_S": "1000000"}
    crashy, _ = start_feature(kafka, crashy_spec, tmp_path / "crashy", unique("g"), **never)
    try:
        records, bad = make_records(stream, N, entities=300, late=20, missing=20)
        await produce(kafka, records)

        async def crashy_progress() -> int:
            ends = await end_offsets(kafka, topics.FEATURES.name)
            return sum(ends.values()) - sum(features_start.values())

        await wait_for(lambda: _at_least(crashy_progress, 8_000), timeout_s=90, interval_s=0.2)
        crashy.kill()
        before = await read_vectors(kafka, features_start, stream, None, timeout_s=3)
        done_before = {v.record_id for v in before if v.view == "crashy"}
        assert 0 < len(done_before) < N - len(bad), "the kill did not land mid-stream"

        group = crashy.env["DRIFTLOOP_FEATURE_GROUP"]
        crashy, _ = start_feature(kafka, crashy_spec, tmp_path / "crashy", group)
        vectors = await read_vectors(kafka, features_start, stream, 2 * (N - len(bad)))
    finally:
        for proc in (steady, crashy):
            if proc.proc and proc.proc.poll() is None:
                assert proc.terminate() == 0, proc.tail()

    by_view: dict[str, dict[str, tuple[str, list[float]]]] = {"steady": {}, "crashy": {}}
    for v in vectors:
        seen = by_view[v.view].setdefault(v.record_id, (v.meta.event_id, list(v.values)))
        assert seen == (v.meta.event_id, list(v.values)), "a recomputation differs"
    expected = {r.meta.event_id for r in records} - bad
    assert set(by_view["steady"]) == expected
    assert set(by_view["crashy"]) == expected
    for rid in expected:
        assert by_view["crashy"][rid][1] == by_view["steady"][rid][1], rid
    # The restart replayed the committed stretch to rebuild state.
    restart_log = crashy.log_path.read_text().split('"service.started"')[-1]
    replays = [json.loads(x) for x in restart_log.splitlines() if "feature.caught_up" in x]
    assert sum(x["records"] for x in replays) > 0, replays
    dead = await read_dead_letters(kafka, dead_start, stream, 2 * len(bad))
    assert {d.meta.causation_id for d in dead} == bad
    assert {(d.meta.event_id) for d in dead} and len({d.meta.event_id for d in dead}) == 2 * len(
        bad
    )


async def _at_least(progress, n: int) -> bool:
    return await progress() >= n
