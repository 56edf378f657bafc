"""Watches the loop's event topics and keeps the timeline of what the
platform did: drift detected, training, versions, aliases, rollouts."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer
from google.protobuf.json_format import MessageToDict

from driftloop.platform import topics
from driftloop.platform.bus import aiokafka_options
from driftloop.platform.envelope import message_class
from driftloop.platform.settings import KafkaSettings
from driftloop_cli.ui import enum_word, p_value, version_word

WATCHED = (topics.DRIFT, topics.TRAINING, topics.MODELS, topics.ROLLOUTS, topics.SERVING)


@dataclass
class LoopEvent:
    """One event of the loop, as the demo saw it."""

    at: float  # seconds since the demo started
    type: str  # short type name, e.g. DriftDetected
    event_id: str
    causation_id: str
    correlation_id: str
    body: dict[str, Any]

    def describe(self) -> str:
        """One line in a person's words (no raw enum names, no "v0")."""
        b = self.body
        match self.type:
            case "DriftDetected":
                return (
                    f"drift detected: {enum_word(b.get('kind'))} drift "
                    f"({b.get('detector', '')}, statistic {float(b.get('statistic', 0)):.3g} "
                    f"over threshold {float(b.get('threshold', 0)):.3g})"
                )
            case "TrainingRequested":
                rows = int(b.get("window", {}).get("min_rows", 0) or 0)
                wait = f"; waits for {rows} labelled rows in its window" if rows else ""
                return f"training requested ({enum_word(b.get('trigger'))}){wait}"
            case "TrainingStarted":
                rows = int(b.get("snapshot", {}).get("rows", 0) or 0)
                return f"training started on {rows} labelled rows"
            case "TrainingCompleted":
                gate = "passed" if b.get("gate_passed") else f"failed ({b.get('gate_reason', '')})"
                how = ", reused without training" if b.get("reused") else ""
                return f"training completed: {version_word(b.get('version'))}{how}, gate {gate}"
            case "TrainingFailed":
                return f"training failed: {b.get('reason', '')[:80]}"
            case "ModelVersionRegistered":
                return f"registered {version_word(b.get('version', {}).get('version'))}"
            case "AliasChanged":
                return (
                    f"{b.get('alias')} → {version_word(b.get('version'))} "
                    f"(was {version_word(b.get('previous_version'))})"
                )
            case "ModelLoaded":
                model = b.get("model", {})
                return (
                    f"serving loaded {version_word(model.get('version'))} as "
                    f"{enum_word(b.get('role'))} ({float(b.get('load_ms', 0)):.0f} ms)"
                )
            case "RolloutStarted":
                return f"canary started at {float(b.get('candidate_share', 0)):.0%} of traffic"
            case "RolloutStepped":
                return f"canary stepped to {float(b.get('candidate_share', 0)):.0%} of traffic"
            case "RolloutDecided":
                why = b.get("reason", "")
                reason = f": {why}" if why and b.get("evidence") else ""
                return f"verdict: {enum_word(b.get('verdict'))}{reason} ({evidence(b)})"
            case "RolloutCompleted":
                champion = version_word(b.get("champion", {}).get("version"))
                return f"rollout completed: {enum_word(b.get('verdict'))}; champion {champion}"
            case "ModelLoadFailed":
                return f"load failed: {b.get('reason', '')[:80]}"
        return self.type


def evidence(body: dict[str, Any]) -> str:
    """The canary evidence behind a verdict, in words and units."""
    e = body.get("evidence") or {}
    if not e:
        return body.get("reason", "")[:80]
    metric = e.get("metric", "accuracy")
    return (
        f"{metric} {float(e.get('candidate_value', 0)):.3f} (candidate, "
        f"{int(e.get('candidate_samples', 0))} labelled) vs "
        f"{float(e.get('champion_value', 0)):.3f} (champion, "
        f"{int(e.get('champion_samples', 0))}), {p_value(float(e.get('p_value', 1)))}"
    )


@dataclass
class Timeline:
    """The loop events seen so far, and the state they imply."""

    started: float = field(default_factory=time.monotonic)
    events: list[LoopEvent] = field(default_factory=list)
    champion: int = 0
    candidate: int = 0
    canary_share: float = 0.0

    def add(self, type_name: str, body: dict[str, Any], meta: dict[str, Any]) -> LoopEvent:
        event = LoopEvent(
            at=time.monotonic() - self.started,
            type=type_name,
            event_id=meta.get("event_id", ""),
            causation_id=meta.get("causation_id", ""),
            correlation_id=meta.get("correlation_id", ""),
            body=body,
        )
        self.events.append(event)
        if type_name == "AliasChanged":
            version = int(body.get("version", 0))
            if body.get("alias") == "champion":
                self.champion = version
            elif body.get("alias") == "candidate":
                self.candidate = version
                self.canary_share = 0.0 if version == 0 else self.canary_share
        elif type_name in ("RolloutStarted", "RolloutStepped"):
            self.canary_share = float(body.get("candidate_share", 0.0))
        elif type_name == "RolloutCompleted":
            self.canary_share = 0.0
        return event

    def first(self, type_name: str, after: float = 0.0, **match: Any) -> LoopEvent | None:
        for e in self.events:
            if (
                e.type == type_name
                and e.at >= after
                and all(e.body.get(k) == v for k, v in match.items())
            ):
                return e
        return None

    def of(self, type_name: str) -> list[LoopEvent]:
        return [e for e in self.events if e.type == type_name]


async def watch(settings: KafkaSettings, timeline: Timeline, ready: asyncio.Event) -> None:
    """Follow the loop topics from their current end until cancelled."""
    consumer = AIOKafkaConsumer(
        *(t.name for t in WATCHED),
        **aiokafka_options(settings),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="latest",
    )
    await consumer.start()
    try:
        # Pin the start positions before the demo produces anything.
        while not consumer.assignment():
            await asyncio.sleep(0.05)
        for tp in consumer.assignment():
            await consumer.position(tp)
        ready.set()
        while True:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for r in records:
                    ce_type = dict(r.headers).get("ce_type", b"").decode()
                    with contextlib.suppress(Exception):
                        msg = message_class(ce_type).FromString(r.value)
                        body = MessageToDict(
                            msg,
                            preserving_proto_field_name=True,
                            always_print_fields_with_no_presence=True,
                        )
                        meta = body.pop("meta", {})
                        timeline.add(ce_type.rsplit(".", 1)[-1], body, meta)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(consumer.stop(), 5)
