import datetime

from driftloop.common.v1 import access_pb2 as _access_pb2
from driftloop.common.v1 import common_pb2 as _common_pb2
from driftloop.ingestion.v1 import events_pb2 as _events_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FieldType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FIELD_TYPE_UNSPECIFIED: _ClassVar[FieldType]
    FIELD_TYPE_FLOAT: _ClassVar[FieldType]
    FIELD_TYPE_INT: _ClassVar[FieldType]
    FIELD_TYPE_BOOL: _ClassVar[FieldType]
    FIELD_TYPE_STRING: _ClassVar[FieldType]
    FIELD_TYPE_CATEGORICAL: _ClassVar[FieldType]
    FIELD_TYPE_TIMESTAMP: _ClassVar[FieldType]

class RecordStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECORD_STATUS_UNSPECIFIED: _ClassVar[RecordStatus]
    RECORD_STATUS_ACCEPTED: _ClassVar[RecordStatus]
    RECORD_STATUS_REJECTED: _ClassVar[RecordStatus]
    RECORD_STATUS_DUPLICATE: _ClassVar[RecordStatus]
FIELD_TYPE_UNSPECIFIED: FieldType
FIELD_TYPE_FLOAT: FieldType
FIELD_TYPE_INT: FieldType
FIELD_TYPE_BOOL: FieldType
FIELD_TYPE_STRING: FieldType
FIELD_TYPE_CATEGORICAL: FieldType
FIELD_TYPE_TIMESTAMP: FieldType
RECORD_STATUS_UNSPECIFIED: RecordStatus
RECORD_STATUS_ACCEPTED: RecordStatus
RECORD_STATUS_REJECTED: RecordStatus
RECORD_STATUS_DUPLICATE: RecordStatus

class FieldSpec(_message.Message):
    __slots__ = ("name", "type", "required", "min", "max", "max_length", "categories")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    MAX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: FieldType
    required: bool
    min: float
    max: float
    max_length: int
    categories: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., type: _Optional[_Union[FieldType, str]] = ..., required: _Optional[bool] = ..., min: _Optional[float] = ..., max: _Optional[float] = ..., max_length: _Optional[int] = ..., categories: _Optional[_Iterable[str]] = ...) -> None: ...

class StreamSchema(_message.Message):
    __slots__ = ("name", "version", "fields", "entity_field", "event_time_field", "id_field", "label")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    ENTITY_FIELD_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    fields: _containers.RepeatedCompositeFieldContainer[FieldSpec]
    entity_field: str
    event_time_field: str
    id_field: str
    label: FieldSpec
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ..., fields: _Optional[_Iterable[_Union[FieldSpec, _Mapping]]] = ..., entity_field: _Optional[str] = ..., event_time_field: _Optional[str] = ..., id_field: _Optional[str] = ..., label: _Optional[_Union[FieldSpec, _Mapping]] = ...) -> None: ...

class RecordInput(_message.Message):
    __slots__ = ("id", "json", "fields")
    ID_FIELD_NUMBER: _ClassVar[int]
    JSON_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    id: str
    json: str
    fields: FieldsPayload
    def __init__(self, id: _Optional[str] = ..., json: _Optional[str] = ..., fields: _Optional[_Union[FieldsPayload, _Mapping]] = ...) -> None: ...

class FieldsPayload(_message.Message):
    __slots__ = ("values",)
    class ValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.Value, _Mapping]] = ...) -> None: ...
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.MessageMap[str, _common_pb2.Value]
    def __init__(self, values: _Optional[_Mapping[str, _common_pb2.Value]] = ...) -> None: ...

class IngestRecordsRequest(_message.Message):
    __slots__ = ("stream", "records")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    stream: str
    records: _containers.RepeatedCompositeFieldContainer[RecordInput]
    def __init__(self, stream: _Optional[str] = ..., records: _Optional[_Iterable[_Union[RecordInput, _Mapping]]] = ...) -> None: ...

class RecordResult(_message.Message):
    __slots__ = ("index", "event_id", "status", "reason", "message", "field")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    index: int
    event_id: str
    status: RecordStatus
    reason: _events_pb2.RejectReason
    message: str
    field: str
    def __init__(self, index: _Optional[int] = ..., event_id: _Optional[str] = ..., status: _Optional[_Union[RecordStatus, str]] = ..., reason: _Optional[_Union[_events_pb2.RejectReason, str]] = ..., message: _Optional[str] = ..., field: _Optional[str] = ...) -> None: ...

class IngestRecordsResponse(_message.Message):
    __slots__ = ("results", "accepted", "rejected", "duplicates")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[RecordResult]
    accepted: int
    rejected: int
    duplicates: int
    def __init__(self, results: _Optional[_Iterable[_Union[RecordResult, _Mapping]]] = ..., accepted: _Optional[int] = ..., rejected: _Optional[int] = ..., duplicates: _Optional[int] = ...) -> None: ...

class LabelInput(_message.Message):
    __slots__ = ("id", "label", "label_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    LABEL_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    label: _common_pb2.Value
    label_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., label: _Optional[_Union[_common_pb2.Value, _Mapping]] = ..., label_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SubmitLabelsRequest(_message.Message):
    __slots__ = ("stream", "labels")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    stream: str
    labels: _containers.RepeatedCompositeFieldContainer[LabelInput]
    def __init__(self, stream: _Optional[str] = ..., labels: _Optional[_Iterable[_Union[LabelInput, _Mapping]]] = ...) -> None: ...

class SubmitLabelsResponse(_message.Message):
    __slots__ = ("results", "accepted", "rejected")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[RecordResult]
    accepted: int
    rejected: int
    def __init__(self, results: _Optional[_Iterable[_Union[RecordResult, _Mapping]]] = ..., accepted: _Optional[int] = ..., rejected: _Optional[int] = ...) -> None: ...

class RegisterStreamRequest(_message.Message):
    __slots__ = ("schema",)
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    schema: StreamSchema
    def __init__(self, schema: _Optional[_Union[StreamSchema, _Mapping]] = ...) -> None: ...

class RegisterStreamResponse(_message.Message):
    __slots__ = ("schema", "new_version")
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    NEW_VERSION_FIELD_NUMBER: _ClassVar[int]
    schema: StreamSchema
    new_version: bool
    def __init__(self, schema: _Optional[_Union[StreamSchema, _Mapping]] = ..., new_version: _Optional[bool] = ...) -> None: ...

class GetStreamRequest(_message.Message):
    __slots__ = ("name", "version")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class ListStreamsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListStreamsResponse(_message.Message):
    __slots__ = ("streams",)
    STREAMS_FIELD_NUMBER: _ClassVar[int]
    streams: _containers.RepeatedCompositeFieldContainer[StreamSchema]
    def __init__(self, streams: _Optional[_Iterable[_Union[StreamSchema, _Mapping]]] = ...) -> None: ...
