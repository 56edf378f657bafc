from driftloop.ingestion.v1.events_pb2 import LabelReceived, RecordValidated
from driftloop.platform import topics
from driftloop.platform.envelope import context_from, headers_for, message_class, new_meta


def test_headers_are_cloudevents_binary_mode():
    meta = new_meta("ingestion", event_id="rec-1")
    headers = headers_for(RecordValidated(meta=meta))
    assert headers["ce_id"] == "rec-1"
    assert headers["ce_type"] == "driftloop.ingestion.v1.RecordValidated"
    assert headers["ce_source"] == "driftloop/ingestion"
    assert headers["ce_specversion"] == "1.0"
    assert headers["content-type"] == "application/protobuf"
    assert headers["ce_time"].endswith("Z")


def test_causation_and_correlation_follow_the_chain():
    first = new_meta("monitoring", event_id="drift-1")
    second = new_meta("training", caused_by=first)
    third = new_meta("registry", caused_by=context_from(headers_for(LabelReceived(meta=second))))
    assert second.causation_id == "drift-1"
    assert second.correlation_id == "drift-1"
    assert third.causation_id == second.event_id
    assert third.correlation_id == "drift-1"


def test_every_topic_event_type_can_be_found_by_name():
    for name in topics.TOPIC_OF:
        assert message_class(name).DESCRIPTOR.full_name == name
