from driftloop.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EventDeadLettered(_message.Message):
    __slots__ = ("meta", "topic", "partition", "offset", "key", "original", "original_headers", "reason", "error_type", "consumer_group", "attempts", "expected_type")
    class OriginalHeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bytes
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...
    META_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_HEADERS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONSUMER_GROUP_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_TYPE_FIELD_NUMBER: _ClassVar[int]
    meta: _common_pb2.EventMeta
    topic: str
    partition: int
    offset: int
    key: bytes
    original: bytes
    original_headers: _containers.ScalarMap[str, bytes]
    reason: str
    error_type: str
    consumer_group: str
    attempts: int
    expected_type: str
    def __init__(self, meta: _Optional[_Union[_common_pb2.EventMeta, _Mapping]] = ..., topic: _Optional[str] = ..., partition: _Optional[int] = ..., offset: _Optional[int] = ..., key: _Optional[bytes] = ..., original: _Optional[bytes] = ..., original_headers: _Optional[_Mapping[str, bytes]] = ..., reason: _Optional[str] = ..., error_type: _Optional[str] = ..., consumer_group: _Optional[str] = ..., attempts: _Optional[int] = ..., expected_type: _Optional[str] = ...) -> None: ...
