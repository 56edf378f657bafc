"""The event bus against the real embedded broker."""

import asyncio

import pytest
from faststream.kafka import KafkaBroker

from driftloop.bus.v1.deadletter_pb2 import EventDeadLettered
from driftloop.common.v1.common_pb2 import Value
from driftloop.ingestion.v1.events_pb2 import LabelReceived
from driftloop.platform import topics
from driftloop.platform.bus import EventBus, Reject, make_broker, subscribe
from driftloop.platform.envelope import EventContext
from driftloop.platform.settings import KafkaSettings
from driftloop.platform.testing import end_offsets, produce_raw, read_from, unique, wait_for

pytestmark = pytest.mark.integration


def _bus(kafka: KafkaSettings) -> tuple[KafkaBroker, EventBus]:
    settings = kafka.model_copy(update={"retry_backoff_s": 0.01})
    broker = make_broker(settings, unique("bus-test"))
    return broker, EventBus(broker, "test", settings)


def _is_letter_of(record, group, event_id):
    letter = EventDeadLettered.FromString(record.value)
    return letter.consumer_group == group and letter.original_headers["ce_id"] == event_id.encode()


def _dead_letters_for(records, group):
    out = []
    for r in records:
        ev = EventDeadLettered.FromString(r.value)
        if ev.consumer_group == group:
            out.append(ev)
    return out


async def test_published_event_arrives_with_the_same_message_and_headers(kafka):
    broker, bus = _bus(kafka)
    group = unique("g")
    got: list[tuple[LabelReceived, EventContext]] = []

    async def on_label(event: LabelReceived, ctx: EventContext) -> None:
        got.append((event, ctx))

    subscribe(broker, bus, topics.LABELS.name, LabelReceived, on_label, group=group)
    sent = LabelReceived(
        meta=bus.meta(caused_by="req-7"),
        stream="s",
        record_id=unique("r"),
        label=Value(int_value=1),
        record_seen=True,
    )
    await broker.start()
    try:
        await bus.publish(sent, key=sent.record_id)
        await wait_for(lambda: any(e.record_id == sent.record_id for e, _ in got))
    finally:
        await broker.stop()
    event, ctx = next((e, c) for e, c in got if e.record_id == sent.record_id)
    assert event == sent
    assert ctx.id == sent.meta.event_id
    assert ctx.type == "driftloop.ingestion.v1.LabelReceived"
    assert ctx.source == "driftloop/test"
    assert ctx.causation_id == "req-7"
    assert ctx.topic == topics.LABELS.name

    # The raw record carries every CloudEvents binary-mode header.
    raw = await read_from(
        kafka,
        topics.LABELS.name,
        None,
        count=1,
        idle_s=0,
        predicate=lambda r: dict(r.headers).get("ce_id") == sent.meta.event_id.encode(),
    )
    headers = dict(raw[0].headers)
    for name in ("ce_id", "ce_type", "ce_source", "ce_time", "ce_specversion", "content-type"):
        assert headers[name], name
    assert raw[0].key == sent.record_id.encode()


async def test_a_published_event_carries_one_correlation_id(kafka):
    # faststream writes a correlation_id header of its own beside CloudEvents'
    # ce_correlationid; both must name the event's correlation, whichever
    # way it was published.
    _, bus = _bus(kafka)
    cause = bus.meta(caused_by=unique("request"))
    one, many = (
        LabelReceived(meta=bus.meta(caused_by=cause), stream="s", record_id=unique("r"))
        for _ in range(2)
    )
    await bus.broker.start()
    try:
        await bus.publish(one, key=one.record_id)
        await bus.publish_many([(many, many.record_id)])
    finally:
        await bus.broker.stop()
    ids = {one.meta.event_id.encode(), many.meta.event_id.encode()}
    raw = await read_from(
        kafka,
        topics.LABELS.name,
        None,
        count=2,
        idle_s=0,
        predicate=lambda r: dict(r.headers).get("ce_id") in ids,
    )
    assert len(raw) == 2
    for record in raw:
        correlations = {k: v for k, v in record.headers if "correlation" in k.lower()}
        assert set(correlations) == {"ce_correlationid", "correlation_id"}, correlations
        assert set(correlations.values()) == {cause.correlation_id.encode()}, correlations


async def test_malformed_payload_is_dead_lettered_with_reason_and_stream_goes_on(kafka):
    broker, bus = _bus(kafka)
    group = unique("g")
    got: list[LabelReceived] = []

    async def on_label(event: LabelReceived, ctx: EventContext) -> None:
        got.append(event)

    subscribe(broker, bus, topics.LABELS.name, LabelReceived, on_label, group=group)
    start = await end_offsets(kafka, topics.DEADLETTER.name)
    good = LabelReceived(meta=bus.meta(), record_id=unique("r"))
    await broker.start()
    try:
        await produce_raw(kafka, topics.LABELS.name, [(b"k", b"\xff\xfe not protobuf")])
        await bus.publish(good, key="k")
        await wait_for(lambda: any(e.record_id == good.record_id for e in got))
        dead = await read_from(
            kafka,
            topics.DEADLETTER.name,
            start,
            count=1,
            idle_s=1,
            predicate=lambda r: (
                EventDeadLettered.FromString(r.value).original == b"\xff\xfe not protobuf"
            ),
        )
    finally:
        await broker.stop()
    (letter,) = _dead_letters_for(dead, group)
    assert letter.original == b"\xff\xfe not protobuf"
    assert letter.topic == topics.LABELS.name
    assert letter.error_type == "DecodeError"
    assert "cannot decode as driftloop.ingestion.v1.LabelReceived" in letter.reason
    assert letter.expected_type == "driftloop.ingestion.v1.LabelReceived"


async def test_failing_handler_is_retried_then_dead_lettered_once(kafka):
    broker, bus = _bus(kafka)
    group = unique("g")
    attempts: list[str] = []
    event = LabelReceived(meta=bus.meta(), record_id=unique("r"))

    async def always_fails(event_: LabelReceived, ctx: EventContext) -> None:
        # The group reads the topic from the beginning: other tests' labels
        # pass, so that only this one is retried (with backoff) and letters.
        if event_.record_id != event.record_id:
            return
        attempts.append(event_.record_id)
        raise RuntimeError("store is down")

    subscribe(broker, bus, topics.LABELS.name, LabelReceived, always_fails, group=group)
    start = await end_offsets(kafka, topics.DEADLETTER.name)
    await broker.start()
    try:
        await bus.publish(event, key="k")
        dead = await read_from(
            kafka,
            topics.DEADLETTER.name,
            start,
            count=1,
            idle_s=1,
            predicate=lambda r: _is_letter_of(r, group, event.meta.event_id),
        )
    finally:
        await broker.stop()
    assert attempts.count(event.record_id) == kafka.handler_retries
    (letter,) = _dead_letters_for(dead, group)
    assert letter.attempts == kafka.handler_retries
    assert "store is down" in letter.reason
    assert LabelReceived.FromString(letter.original) == event
    assert letter.original_headers["ce_id"] == event.meta.event_id.encode()


async def test_reject_dead_letters_without_retry(kafka):
    broker, bus = _bus(kafka)
    group = unique("g")
    calls: list[str] = []
    event = LabelReceived(meta=bus.meta(), record_id=unique("r"))

    async def rejects(event_: LabelReceived, ctx: EventContext) -> None:
        if event_.record_id != event.record_id:
            return  # other tests' labels (the group reads from the beginning)
        calls.append(event_.record_id)
        raise Reject("label for an unknown stream")

    subscribe(broker, bus, topics.LABELS.name, LabelReceived, rejects, group=group)
    start = await end_offsets(kafka, topics.DEADLETTER.name)
    await broker.start()
    try:
        await bus.publish(event, key="k")
        dead = await read_from(
            kafka,
            topics.DEADLETTER.name,
            start,
            count=1,
            idle_s=1,
            predicate=lambda r: _is_letter_of(r, group, event.meta.event_id),
        )
    finally:
        await broker.stop()
    assert calls.count(event.record_id) == 1
    assert _dead_letters_for(dead, group)[0].reason == "label for an unknown stream"


async def test_offsets_are_committed_after_handling(kafka):
    """A second consumer in the same group does not see handled events again."""
    group = unique("g")
    seen: list[str] = []

    async def on_label(event: LabelReceived, ctx: EventContext) -> None:
        seen.append(event.record_id)

    ids = [unique("r") for _ in range(20)]
    broker, bus = _bus(kafka)
    subscribe(broker, bus, topics.LABELS.name, LabelReceived, on_label, group=group)
    await broker.start()
    try:
        await bus.publish_many([(LabelReceived(meta=bus.meta(), record_id=i), i) for i in ids])
        await wait_for(lambda: set(ids) <= set(seen))
    finally:
        await broker.stop()

    again: list[str] = []

    async def on_again(event: LabelReceived, ctx: EventContext) -> None:
        again.append(event.record_id)

    broker2, bus2 = _bus(kafka)
    subscribe(broker2, bus2, topics.LABELS.name, LabelReceived, on_again, group=group)
    marker = LabelReceived(meta=bus2.meta(), record_id=unique("marker"))
    await broker2.start()
    try:
        await bus2.publish(marker, key="m")
        await wait_for(lambda: marker.record_id in again)
        await asyncio.sleep(0.5)
    finally:
        await broker2.stop()
    assert not set(ids) & set(again)


async def test_two_event_types_of_one_topic_share_one_consumer(kafka):
    """Both handlers of one group see all their events (no partition split),
    and a type of the topic nobody here handles is skipped, not dead-lettered."""
    from driftloop.registry.v1.events_pb2 import AliasChanged, ModelVersionRegistered
    from driftloop.registry.v1.model_pb2 import ModelVersion

    broker, bus = _bus(kafka)
    group = unique("g")
    model = unique("m")
    registered: list[int] = []
    changed: list[int] = []

    async def on_registered(event: ModelVersionRegistered, ctx: EventContext) -> None:
        if event.version.model == model:
            registered.append(event.version.version)

    async def on_changed(event: AliasChanged, ctx: EventContext) -> None:
        if event.model == model:
            changed.append(event.version)

    subscribe(broker, bus, topics.MODELS.name, ModelVersionRegistered, on_registered, group=group)
    subscribe(broker, bus, topics.MODELS.name, AliasChanged, on_changed, group=group)
    start = await end_offsets(kafka, topics.DEADLETTER.name)
    await broker.start()
    try:
        # Keys spread the events over every partition.
        events = []
        for v in range(1, 13):
            events.append(
                (
                    ModelVersionRegistered(
                        meta=bus.meta(), version=ModelVersion(model=model, version=v)
                    ),
                    f"k{v}",
                )
            )
            events.append(
                (AliasChanged(meta=bus.meta(), model=model, alias="champion", version=v), f"k{v}")
            )
        await bus.publish_many(events)
        await wait_for(lambda: len(registered) == 12 and len(changed) == 12)
        dead = await read_from(
            kafka,
            topics.DEADLETTER.name,
            start,
            timeout_s=1,
            idle_s=0,
            predicate=lambda r: EventDeadLettered.FromString(r.value).consumer_group == group,
        )
    finally:
        await broker.stop()
    assert sorted(registered) == list(range(1, 13))
    assert sorted(changed) == list(range(1, 13))
    assert dead == []
