import datetime

from driftloop.common.v1 import common_pb2 as _common_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RejectReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REJECT_REASON_UNSPECIFIED: _ClassVar[RejectReason]
    REJECT_REASON_MALFORMED: _ClassVar[RejectReason]
    REJECT_REASON_UNKNOWN_STREAM: _ClassVar[RejectReason]
    REJECT_REASON_MISSING_FIELD: _ClassVar[RejectReason]
    REJECT_REASON_WRONG_TYPE: _ClassVar[RejectReason]
    REJECT_REASON_OUT_OF_RANGE: _ClassVar[RejectReason]
    REJECT_REASON_UNKNOWN_CATEGORY: _ClassVar[RejectReason]
    REJECT_REASON_TOO_LONG: _ClassVar[RejectReason]
    REJECT_REASON_OVERSIZED: _ClassVar[RejectReason]
    REJECT_REASON_UNKNOWN_FIELD: _ClassVar[RejectReason]
    REJECT_REASON_BATCH_TOO_LARGE: _ClassVar[RejectReason]
    REJECT_REASON_INVALID_LABEL: _ClassVar[RejectReason]
    REJECT_REASON_INVALID_TIMESTAMP: _ClassVar[RejectReason]
REJECT_REASON_UNSPECIFIED: RejectReason
REJECT_REASON_MALFORMED: RejectReason
REJECT_REASON_UNKNOWN_STREAM: RejectReason
REJECT_REASON_MISSING_FIELD: RejectReason
REJECT_REASON_WRONG_TYPE: RejectReason
REJECT_REASON_OUT_OF_RANGE: RejectReason
REJECT_REASON_UNKNOWN_CATEGORY: RejectReason
REJECT_REASON_TOO_LONG: RejectReason
REJECT_REASON_OVERSIZED: RejectReason
REJECT_REASON_UNKNOWN_FIELD: RejectReason
REJECT_REASON_BATCH_TOO_LARGE: RejectReason
REJECT_REASON_INVALID_LABEL: RejectReason
REJECT_REASON_INVALID_TIMESTAMP: RejectReason

class Origin(_message.Message):
    __slots__ = ("kafka", "grpc")
    class Kafka(_message.Message):
        __slots__ = ("topic", "partition", "offset")
        TOPIC_FIELD_NUMBER: _ClassVar[int]
        PARTITION_FIELD_NUMBER: _ClassVar[int]
        OFFSET_FIELD_NUMBER: _ClassVar[int]
        topic: str
        partition: int
        offset: int
        def __init__(self, topic: _Optional[str] = ..., partition: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...
    class Grpc(_message.Message):
        __slots__ = ("peer", "method", "request_id", "index")
        PEER_FIELD_NUMBER: _ClassVar[int]
        METHOD_FIELD_NUMBER: _ClassVar[int]
        REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
        INDEX_FIELD_NUMBER: _ClassVar[int]
        peer: str
        method: str
        request_id: str
        index: int
        def __init__(self, peer: _Optional[str] = ..., method: _Optional[str] = ..., request_id: _Optional[str] = ..., index: _Optional[int] = ...) -> None: ...
    KAFKA_FIELD_NUMBER: _ClassVar[int]
    GRPC_FIELD_NUMBER: _ClassVar[int]
    kafka: Origin.Kafka
    grpc: Origin.Grpc
    def __init__(self, kafka: _Optional[_Union[Origin.Kafka, _Mapping]] = ..., grpc: _Optional[_Union[Origin.Grpc, _Mapping]] = ...) -> None: ...

class RecordValidated(_message.Message):
    __slots__ = ("meta", "stream", "schema_version", "entity_id", "event_time", "ingested_at", "fields", "origin")
    class FieldsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.Value, _Mapping]] = ...) -> None: ...
    META_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    INGESTED_AT_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    meta: _common_pb2.EventMeta
    stream: str
    schema_version: int
    entity_id: str
    event_time: _timestamp_pb2.Timestamp
    ingested_at: _timestamp_pb2.Timestamp
    fields: _containers.MessageMap[str, _common_pb2.Value]
    origin: Origin
    def __init__(self, meta: _Optional[_Union[_common_pb2.EventMeta, _Mapping]] = ..., stream: _Optional[str] = ..., schema_version: _Optional[int] = ..., entity_id: _Optional[str] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ingested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., fields: _Optional[_Mapping[str, _common_pb2.Value]] = ..., origin: _Optional[_Union[Origin, _Mapping]] = ...) -> None: ...

class RecordDeadLettered(_message.Message):
    __slots__ = ("meta", "stream", "original", "reason", "message", "field", "origin", "original_headers", "is_label")
    class OriginalHeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bytes
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...
    META_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_HEADERS_FIELD_NUMBER: _ClassVar[int]
    IS_LABEL_FIELD_NUMBER: _ClassVar[int]
    meta: _common_pb2.EventMeta
    stream: str
    original: bytes
    reason: RejectReason
    message: str
    field: str
    origin: Origin
    original_headers: _containers.ScalarMap[str, bytes]
    is_label: bool
    def __init__(self, meta: _Optional[_Union[_common_pb2.EventMeta, _Mapping]] = ..., stream: _Optional[str] = ..., original: _Optional[bytes] = ..., reason: _Optional[_Union[RejectReason, str]] = ..., message: _Optional[str] = ..., field: _Optional[str] = ..., origin: _Optional[_Union[Origin, _Mapping]] = ..., original_headers: _Optional[_Mapping[str, bytes]] = ..., is_label: _Optional[bool] = ...) -> None: ...

class LabelReceived(_message.Message):
    __slots__ = ("meta", "stream", "record_id", "label", "label_time", "record_seen")
    META_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    LABEL_TIME_FIELD_NUMBER: _ClassVar[int]
    RECORD_SEEN_FIELD_NUMBER: _ClassVar[int]
    meta: _common_pb2.EventMeta
    stream: str
    record_id: str
    label: _common_pb2.Value
    label_time: _timestamp_pb2.Timestamp
    record_seen: bool
    def __init__(self, meta: _Optional[_Union[_common_pb2.EventMeta, _Mapping]] = ..., stream: _Optional[str] = ..., record_id: _Optional[str] = ..., label: _Optional[_Union[_common_pb2.Value, _Mapping]] = ..., label_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., record_seen: _Optional[bool] = ...) -> None: ...

class BadRecordRateExceeded(_message.Message):
    __slots__ = ("meta", "stream", "rate", "threshold", "window_records", "window_rejected", "rejected_by_reason")
    class RejectedByReasonEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    META_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    WINDOW_RECORDS_FIELD_NUMBER: _ClassVar[int]
    WINDOW_REJECTED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_BY_REASON_FIELD_NUMBER: _ClassVar[int]
    meta: _common_pb2.EventMeta
    stream: str
    rate: float
    threshold: float
    window_records: int
    window_rejected: int
    rejected_by_reason: _containers.ScalarMap[str, int]
    def __init__(self, meta: _Optional[_Union[_common_pb2.EventMeta, _Mapping]] = ..., stream: _Optional[str] = ..., rate: _Optional[float] = ..., threshold: _Optional[float] = ..., window_records: _Optional[int] = ..., window_rejected: _Optional[int] = ..., rejected_by_reason: _Optional[_Mapping[str, int]] = ...) -> None: ...
