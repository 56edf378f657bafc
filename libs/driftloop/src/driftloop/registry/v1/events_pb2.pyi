from driftloop.common.v1 import common_pb2 as _common_pb2
from driftloop.registry.v1 import model_pb2 as _model_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ModelVersionRegistered(_message.Message):
    __slots__ = ("meta", "version")
    META_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    meta: _common_pb2.EventMeta
    version: _model_pb2.ModelVersion
    def __init__(self, meta: _Optional[_Union[_common_pb2.EventMeta, _Mapping]] = ..., version: _Optional[_Union[_model_pb2.ModelVersion, _Mapping]] = ...) -> None: ...

class AliasChanged(_message.Message):
    __slots__ = ("meta", "model", "alias", "version", "previous_version", "reason", "caused_by_event_id", "model_version", "sequence")
    META_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_VERSION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CAUSED_BY_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    meta: _common_pb2.EventMeta
    model: str
    alias: str
    version: int
    previous_version: int
    reason: str
    caused_by_event_id: str
    model_version: _model_pb2.ModelVersion
    sequence: int
    def __init__(self, meta: _Optional[_Union[_common_pb2.EventMeta, _Mapping]] = ..., model: _Optional[str] = ..., alias: _Optional[str] = ..., version: _Optional[int] = ..., previous_version: _Optional[int] = ..., reason: _Optional[str] = ..., caused_by_event_id: _Optional[str] = ..., model_version: _Optional[_Union[_model_pb2.ModelVersion, _Mapping]] = ..., sequence: _Optional[int] = ...) -> None: ...
