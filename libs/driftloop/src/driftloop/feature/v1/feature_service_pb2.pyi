import datetime

from driftloop.common.v1 import access_pb2 as _access_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetOnlineFeaturesRequest(_message.Message):
    __slots__ = ("view", "entity_ids")
    VIEW_FIELD_NUMBER: _ClassVar[int]
    ENTITY_IDS_FIELD_NUMBER: _ClassVar[int]
    view: str
    entity_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, view: _Optional[str] = ..., entity_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class OnlineVector(_message.Message):
    __slots__ = ("entity_id", "found", "values", "event_time", "age", "record_id")
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    FOUND_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    AGE_FIELD_NUMBER: _ClassVar[int]
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    entity_id: str
    found: bool
    values: _containers.RepeatedScalarFieldContainer[float]
    event_time: _timestamp_pb2.Timestamp
    age: _duration_pb2.Duration
    record_id: str
    def __init__(self, entity_id: _Optional[str] = ..., found: _Optional[bool] = ..., values: _Optional[_Iterable[float]] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., age: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., record_id: _Optional[str] = ...) -> None: ...

class GetOnlineFeaturesResponse(_message.Message):
    __slots__ = ("view", "view_version", "feature_names", "vectors")
    VIEW_FIELD_NUMBER: _ClassVar[int]
    VIEW_VERSION_FIELD_NUMBER: _ClassVar[int]
    FEATURE_NAMES_FIELD_NUMBER: _ClassVar[int]
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    view: str
    view_version: int
    feature_names: _containers.RepeatedScalarFieldContainer[str]
    vectors: _containers.RepeatedCompositeFieldContainer[OnlineVector]
    def __init__(self, view: _Optional[str] = ..., view_version: _Optional[int] = ..., feature_names: _Optional[_Iterable[str]] = ..., vectors: _Optional[_Iterable[_Union[OnlineVector, _Mapping]]] = ...) -> None: ...

class FeatureViewInfo(_message.Message):
    __slots__ = ("name", "version", "stream", "feature_names")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    FEATURE_NAMES_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    stream: str
    feature_names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ..., stream: _Optional[str] = ..., feature_names: _Optional[_Iterable[str]] = ...) -> None: ...

class ListFeatureViewsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListFeatureViewsResponse(_message.Message):
    __slots__ = ("views",)
    VIEWS_FIELD_NUMBER: _ClassVar[int]
    views: _containers.RepeatedCompositeFieldContainer[FeatureViewInfo]
    def __init__(self, views: _Optional[_Iterable[_Union[FeatureViewInfo, _Mapping]]] = ...) -> None: ...
