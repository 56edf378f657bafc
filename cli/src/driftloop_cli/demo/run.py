"""Drives one demo run: streams records at a steady rate, asks serving for a
prediction for each (like any OIP v2 client), sends the true labels after a
delay, and records what the platform answered and did."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc

from driftloop.platform.settings import KafkaSettings
from driftloop_cli.demo.client import PlatformClient
from driftloop_cli.demo.stream import BEFORE, DemoRecord, DriftingStream, DriftKind, Generator
from driftloop_cli.demo.timeline import Timeline, evidence, watch
from driftloop_cli.ui import enum_word


@dataclass(frozen=True)
class DemoConfig:
    duration_s: float = 240.0
    rate: float = 100.0
    seed: int = 42
    drift: DriftKind = "abrupt"
    #: Where in the run the concept changes (share of the records).
    drift_at: float = 0.5
    label_delay_s: float = 5.0
    bad_candidate: bool = False
    #: End this long after the rollout finished (the second one for a
    #: recurring concept; None: run the full duration).
    stop_after_loop_s: float | None = None
    stream: str = "loans"
    view: str = "loan_features"
    model: str = "loan-approval"
    max_in_flight: int = 64
    #: The records' generator: the demo's loans (Agrawal) or STAGGER shapes.
    generator: Generator = "agrawal"


@dataclass(frozen=True)
class Sample:
    """One answered prediction."""

    at: float
    index: int
    record_id: str
    concept: int
    label: int
    predicted: int
    version: str
    role: str


@dataclass
class Counters:
    """Where every record sent went; ``sent`` is always the sum of
    ``rejected``, ``predicted``, ``no_model_yet``, ``superseded``,
    ``prediction_failures``, ``gave_up``, ``unanswered`` and ``in_flight``."""

    sent: int = 0
    accepted: int = 0
    #: Refused by ingestion.
    rejected: int = 0
    predicted: int = 0
    prediction_failures: int = 0
    #: Asked before serving had loaded a first model.
    no_model_yet: int = 0
    #: The entity's online vector was already a later record's (or none came),
    #: or became one before serving read it.
    superseded: int = 0
    #: Could not be sent within 5 s (the client was saturated).
    gave_up: int = 0
    #: Still waiting when the run ended.
    unanswered: int = 0
    in_flight: int = 0
    labels_sent: int = 0
    labels_rejected: int = 0
    failure_reasons: dict[str, int] = field(default_factory=dict)

    def accounted(self) -> int:
        """The sum that must equal ``sent``."""
        return (
            self.rejected
            + self.predicted
            + self.no_model_yet
            + self.superseded
            + self.prediction_failures
            + self.gave_up
            + self.unanswered
            + self.in_flight
        )


@dataclass
class DemoRun:
    config: DemoConfig
    timeline: Timeline = field(default_factory=Timeline)
    samples: list[Sample] = field(default_factory=list)
    counters: Counters = field(default_factory=Counters)
    onset_at: float | None = None
    bad_candidate_version: int = 0
    ended_at: float = 0.0
    #: Accepted record ids and when (seconds since start) they were accepted.
    accepted_at: dict[str, float] = field(default_factory=dict)

    def now(self) -> float:
        return time.monotonic() - self.timeline.started

    def rolling_accuracy(self, last: int = 200) -> float | None:
        window = self.samples[-last:]
        if not window:
            return None
        return sum(s.label == s.predicted for s in window) / len(window)


async def run_demo(
    config: DemoConfig,
    kafka: KafkaSettings,
    address_of: Callable[[str], str],
    on_tick: Callable[[DemoRun], None] = lambda run: None,
) -> DemoRun:
    run = DemoRun(config)
    total = int(config.duration_s * config.rate)
    stream = DriftingStream(
        drift=config.drift,
        drift_at=int(total * config.drift_at),
        seed=config.seed,
        run_id=f"demo{int(time.time())}",
        generator=config.generator,
    )
    client = PlatformClient(address_of)
    ready = asyncio.Event()
    watcher = asyncio.create_task(watch(kafka, run.timeline, ready))
    await asyncio.wait_for(ready.wait(), 30)
    run.timeline.started = time.monotonic()
    labels: list[tuple[float, str, int]] = []
    in_flight = asyncio.Semaphore(config.max_in_flight)
    tasks: set[asyncio.Task[None]] = set()
    vectors = VectorWaiter(client, config.view)
    background = [
        asyncio.create_task(_send_labels(client, config, run, labels)),
        asyncio.create_task(vectors.run()),
    ]
    try:
        records = stream.take(total)
        tick = 0.1
        per_tick = config.rate * tick
        budget = 0.0
        next_tick = time.monotonic()
        done = False
        while not done:
            budget += per_tick
            batch: list[DemoRecord] = []
            while budget >= 1:
                rec = next(records, None)
                if rec is None:
                    done = True
                    break
                batch.append(rec)
                budget -= 1
            if batch:
                await _ingest(client, config, run, batch, labels, tasks, vectors, in_flight)
            if config.bad_candidate and not run.bad_candidate_version:
                await _maybe_inject(client, config, run)
            if config.stop_after_loop_s is not None:
                finished = _loop_finished(run)
                if finished is not None and run.now() - finished >= config.stop_after_loop_s:
                    done = True
            on_tick(run)
            next_tick += tick
            await asyncio.sleep(max(0.0, next_tick - time.monotonic()))
        if tasks:
            _, pending = await asyncio.wait(set(tasks), timeout=30)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        # Let the last labels go out and the platform react to them.
        deadline = time.monotonic() + config.label_delay_s + 5
        while labels and time.monotonic() < deadline:
            on_tick(run)
            await asyncio.sleep(0.2)
    finally:
        run.ended_at = run.now()
        for task in (*background, watcher):
            task.cancel()
        # Never let a slow shutdown of a client hold the result back.
        await asyncio.wait({*background, watcher}, timeout=10)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.close(), 10)
    return run


def _loop_finished(run: DemoRun) -> float | None:
    """When the (last) rollout finished, once every rollout the drift implies
    did: one, or two for a recurring concept (away from it, and back)."""
    done = run.timeline.of("RolloutCompleted")
    expected = 2 if run.config.drift == "recurring" else 1
    return done[-1].at if len(done) >= expected else None


async def _ingest(
    client: PlatformClient,
    config: DemoConfig,
    run: DemoRun,
    batch: list[DemoRecord],
    labels: list[tuple[float, str, int]],
    tasks: set[asyncio.Task[None]],
    vectors: VectorWaiter,
    in_flight: asyncio.Semaphore,
) -> None:
    if run.onset_at is None and any(r.concept != BEFORE for r in batch):
        run.onset_at = run.now()
    run.counters.sent += len(batch)
    try:
        reply = await client.ingest(config.stream, batch)
    except grpc.aio.AioRpcError as exc:
        run.counters.rejected += len(batch)
        _count(run, f"ingest:{exc.code().name}")
        return
    for rec, result in zip(batch, reply.results, strict=True):
        if result.status != 1:  # RECORD_STATUS_ACCEPTED
            run.counters.rejected += 1
            continue
        run.counters.accepted += 1
        run.accepted_at[rec.record_id] = run.now()
        now = time.monotonic()
        heapq.heappush(labels, (now + config.label_delay_s, rec.record_id, rec.label))
        run.counters.in_flight += 1
        task = asyncio.create_task(_predict(client, config, run, rec, vectors, in_flight))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        task.add_done_callback(lambda t: _settle(run, t))


def _settle(run: DemoRun, task: asyncio.Task[None]) -> None:
    """A prediction task ended: it counted its outcome, unless cancelled."""
    run.counters.in_flight -= 1
    if task.cancelled():
        run.counters.unanswered += 1
    elif (exc := task.exception()) is not None:
        run.counters.prediction_failures += 1
        _count(run, f"predict:{type(exc).__name__}:{str(exc)[:60]}")


class VectorWaiter:
    """Waits for each record's feature vector to reach the online store.

    A client that predicts right after ingesting has to wait until the
    feature service has computed the record's vector. Rather than poll once
    per record, every waiting record is checked in one batch lookup per tick,
    as a Feast client reading many entities at once would.
    """

    def __init__(self, client: PlatformClient, view: str, patience_s: float = 3.0) -> None:
        self._client = client
        self._view = view
        self._patience_s = patience_s
        self._waiting: dict[str, list[tuple[str, float, asyncio.Future[Any]]]] = {}

    async def vector_for(self, rec: DemoRecord) -> Any | None:
        """The record's own vector, or None when the entity's newest vector is
        already a later record's (or none came) within the patience."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        deadline = time.monotonic() + self._patience_s
        self._waiting.setdefault(rec.customer_id, []).append((rec.record_id, deadline, future))
        return await future

    async def run(self, tick_s: float = 0.05) -> None:
        while True:
            await asyncio.sleep(tick_s)
            if not self._waiting:
                continue
            entities = list(self._waiting)
            found: dict[str, Any] = {}
            for i in range(0, len(entities), 500):
                chunk = entities[i : i + 500]
                with contextlib.suppress(grpc.aio.AioRpcError):
                    found.update(await self._client.online_vectors(self._view, chunk))
            now = time.monotonic()
            for entity in entities:
                vector = found.get(entity)
                still = []
                for record_id, deadline, future in self._waiting.pop(entity, []):
                    if future.done():
                        continue
                    if vector is not None and vector.record_id == record_id:
                        future.set_result(vector)
                    elif now >= deadline:
                        future.set_result(None)
                    else:
                        still.append((record_id, deadline, future))
                if still:
                    self._waiting.setdefault(entity, []).extend(still)


async def _predict(
    client: PlatformClient,
    config: DemoConfig,
    run: DemoRun,
    rec: DemoRecord,
    vectors: VectorWaiter,
    in_flight: asyncio.Semaphore,
) -> None:
    vector = await vectors.vector_for(rec)
    if vector is None:
        # The entity's newest vector is already a later record's, or none came.
        run.counters.superseded += 1
        return
    queued = time.monotonic()
    async with in_flight:
        if time.monotonic() - queued > 5.0:
            # A client gives up on a request it could not send for seconds:
            # count, do not pile up.
            run.counters.gave_up += 1
            return
        try:
            answer = await client.predict(config.model, rec.record_id, rec.customer_id)
        except grpc.aio.AioRpcError as exc:
            # Until serving has loaded a first model, "no model" is expected.
            if run.timeline.first("ModelLoaded") is None and exc.code() in (
                grpc.StatusCode.NOT_FOUND,
                grpc.StatusCode.UNAVAILABLE,
            ):
                run.counters.no_model_yet += 1
            else:
                run.counters.prediction_failures += 1
                _count(run, f"predict:{exc.code().name}:{exc.details()[:60]}")
            return
        if answer.vector_record_id not in ("", rec.record_id):
            # A newer record of the entity reached the online store between
            # the lookup and the call: the answer is about that record.
            run.counters.superseded += 1
            return
        run.counters.predicted += 1
        run.samples.append(
            Sample(
                run.now(),
                rec.index,
                rec.record_id,
                rec.concept,
                rec.label,
                answer.label,
                answer.version,
                answer.role,
            )
        )


async def _send_labels(
    client: PlatformClient,
    config: DemoConfig,
    run: DemoRun,
    labels: list[tuple[float, str, int]],
) -> None:
    while True:
        now = time.monotonic()
        due: list[tuple[str, int]] = []
        while labels and labels[0][0] <= now:
            _, record_id, label = heapq.heappop(labels)
            due.append((record_id, label))
        for i in range(0, len(due), 500):
            chunk = due[i : i + 500]
            try:
                reply = await client.submit_labels(config.stream, chunk)
                run.counters.labels_sent += int(reply.accepted)
                run.counters.labels_rejected += int(reply.rejected)
            except grpc.aio.AioRpcError as exc:
                run.counters.labels_rejected += len(chunk)
                _count(run, f"labels:{exc.code().name}")
        await asyncio.sleep(0.2)


async def _maybe_inject(client: PlatformClient, config: DemoConfig, run: DemoRun) -> None:
    """Once a champion has served for a while, deploy a broken candidate."""
    champion_since = run.timeline.first("AliasChanged", alias="champion")
    if champion_since is None or run.now() - champion_since.at < 15:
        return
    try:
        width = await client.champion_width(config.model)
        run.bad_candidate_version = await client.register_bad_candidate(
            config.model, width, "demo --bad-candidate: a broken model deployed by hand"
        )
    except grpc.aio.AioRpcError as exc:
        _count(run, f"bad-candidate:{exc.code().name}:{exc.details()[:60]}")
        run.bad_candidate_version = -1


def _count(run: DemoRun, reason: str) -> None:
    run.counters.failure_reasons[reason] = run.counters.failure_reasons.get(reason, 0) + 1


def waiting_for(run: DemoRun) -> str:
    """What the platform is waiting for now, in a person's words."""
    tl = run.timeline
    last = tl.events[-1] if tl.events else None
    delay = f"labels arrive {run.config.label_delay_s:g} s after their records"
    if last is None or (tl.champion == 0 and last.type not in _TRAINING):
        return f"the first model: training starts once enough records are labelled ({delay})"
    if last.type == "TrainingRequested":
        return "labelled rows for the training window (" + last.describe().split("waits for ")[-1]
    if last.type == "TrainingStarted":
        return "the trainer to finish (fit, validation gate, ONNX export)"
    if last.type in ("TrainingCompleted", "ModelVersionRegistered", "AliasChanged", "ModelLoaded"):
        if tl.candidate:
            return "the canary to start: serving loads the candidate beside the champion"
        if run.onset_at is not None and tl.first("DriftDetected", after=run.onset_at) is None:
            return f"monitoring to see the drift in labelled predictions ({delay})"
        return "new evidence: the champion serves; monitoring watches its labelled predictions"
    if last.type in ("RolloutStarted", "RolloutStepped"):
        return (
            f"the verdict: monitoring compares candidate and champion on labelled "
            f"predictions at {tl.canary_share:.0%} canary traffic"
        )
    if last.type == "DriftDetected":
        return "training on the data since the drift"
    if last.type in ("RolloutDecided", "RolloutCompleted"):
        return "nothing: the loop is closed; monitoring keeps watching"
    return "the next step of the loop"


_TRAINING = ("TrainingRequested", "TrainingStarted", "TrainingCompleted", "TrainingFailed")


def unfinished(run: DemoRun, verdict_seen: bool) -> str | None:
    """Why a run ended before the loop's verdict, or None when it did not."""
    if verdict_seen or run.config.drift == "none":
        return None
    return (
        f"the run ended at {run.ended_at:.0f} s while the platform was waiting for "
        f"{waiting_for(run)}; a longer run (--duration) or an earlier drift (--drift-at) "
        "leaves the loop time to reach its verdict"
    )


def summary(run: DemoRun) -> dict[str, Any]:
    """Timings of the loop and accuracy before drift, right after, after recovery."""
    tl = run.timeline
    onset = run.onset_at
    detected = tl.first("DriftDetected", after=onset) if onset is not None else None
    after_detect = detected.at if detected else 0.0
    candidate = next(
        (
            e
            for e in tl.of("AliasChanged")
            if e.body.get("alias") == "candidate"
            and int(e.body.get("version", 0)) > 0
            and e.at >= after_detect
            and onset is not None
        ),
        None,
    )
    decided = next((e for e in tl.of("RolloutDecided") if candidate and e.at >= candidate.at), None)
    promoted = next(
        (
            e
            for e in tl.of("AliasChanged")
            if candidate
            and e.body.get("alias") == "champion"
            and int(e.body.get("version", 0)) == int(candidate.body.get("version", 0))
        ),
        None,
    )

    def acc(lo: float, hi: float) -> float | None:
        window = [s for s in run.samples if lo <= s.at < hi]
        return (
            round(sum(s.label == s.predicted for s in window) / len(window), 4) if window else None
        )

    end = run.ended_at or run.now()
    before = acc(max(0.0, (onset or end) - 60), onset or end)
    right_after = (
        acc(onset, (detected.at if detected else onset + 30)) if onset is not None else None
    )
    recovered = acc(promoted.at + 5, end) if promoted else None

    def rel(e: Any) -> float | None:
        return round(e.at - onset, 2) if e is not None and onset is not None else None

    return {
        "config": {k: getattr(run.config, k) for k in run.config.__dataclass_fields__},
        "counts": {**run.counters.__dict__},
        "champion": tl.champion,
        "timings_s": {
            "drift_onset_at": round(onset, 2) if onset is not None else None,
            "onset_to_detection": rel(detected),
            "onset_to_candidate": rel(candidate),
            "onset_to_verdict": rel(decided),
            "onset_to_promotion": rel(promoted),
        },
        "verdict": enum_word(decided.body.get("verdict")) if decided else None,
        "verdict_evidence": evidence(decided.body) if decided else None,
        "unfinished": unfinished(run, decided is not None),
        "accuracy": {
            "before_drift": before,
            "right_after_drift": right_after,
            "after_recovery": recovered,
        },
        "retrains_after_onset": len(
            [e for e in tl.of("TrainingRequested") if onset is not None and e.at >= onset]
        ),
        "drift_events": len(tl.of("DriftDetected")),
        "bad_candidate_version": run.bad_candidate_version or None,
        "events": [
            {
                "at": round(e.at, 2),
                "type": e.type,
                "what": e.describe(),
                "event_id": e.event_id,
                "causation_id": e.causation_id,
                "correlation_id": e.correlation_id,
            }
            for e in tl.events
        ],
    }
