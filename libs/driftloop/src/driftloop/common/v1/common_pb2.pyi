import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ModelRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_ROLE_UNSPECIFIED: _ClassVar[ModelRole]
    MODEL_ROLE_CHAMPION: _ClassVar[ModelRole]
    MODEL_ROLE_CANDIDATE: _ClassVar[ModelRole]
    MODEL_ROLE_SHADOW: _ClassVar[ModelRole]

class TaskKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_KIND_UNSPECIFIED: _ClassVar[TaskKind]
    TASK_KIND_CLASSIFICATION: _ClassVar[TaskKind]
    TASK_KIND_REGRESSION: _ClassVar[TaskKind]
MODEL_ROLE_UNSPECIFIED: ModelRole
MODEL_ROLE_CHAMPION: ModelRole
MODEL_ROLE_CANDIDATE: ModelRole
MODEL_ROLE_SHADOW: ModelRole
TASK_KIND_UNSPECIFIED: TaskKind
TASK_KIND_CLASSIFICATION: TaskKind
TASK_KIND_REGRESSION: TaskKind

class EventMeta(_message.Message):
    __slots__ = ("event_id", "causation_id", "correlation_id", "occurred_at", "source")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    CAUSATION_ID_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    causation_id: str
    correlation_id: str
    occurred_at: _timestamp_pb2.Timestamp
    source: str
    def __init__(self, event_id: _Optional[str] = ..., causation_id: _Optional[str] = ..., correlation_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[str] = ...) -> None: ...

class Value(_message.Message):
    __slots__ = ("number_value", "int_value", "bool_value", "string_value", "timestamp_value", "null_value")
    NUMBER_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_VALUE_FIELD_NUMBER: _ClassVar[int]
    NULL_VALUE_FIELD_NUMBER: _ClassVar[int]
    number_value: float
    int_value: int
    bool_value: bool
    string_value: str
    timestamp_value: _timestamp_pb2.Timestamp
    null_value: bool
    def __init__(self, number_value: _Optional[float] = ..., int_value: _Optional[int] = ..., bool_value: _Optional[bool] = ..., string_value: _Optional[str] = ..., timestamp_value: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., null_value: _Optional[bool] = ...) -> None: ...

class ModelRef(_message.Message):
    __slots__ = ("name", "version")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class Histogram(_message.Message):
    __slots__ = ("name", "bin_edges", "categories", "counts", "count", "mean", "std")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BIN_EDGES_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    STD_FIELD_NUMBER: _ClassVar[int]
    name: str
    bin_edges: _containers.RepeatedScalarFieldContainer[float]
    categories: _containers.RepeatedScalarFieldContainer[str]
    counts: _containers.RepeatedScalarFieldContainer[int]
    count: int
    mean: float
    std: float
    def __init__(self, name: _Optional[str] = ..., bin_edges: _Optional[_Iterable[float]] = ..., categories: _Optional[_Iterable[str]] = ..., counts: _Optional[_Iterable[int]] = ..., count: _Optional[int] = ..., mean: _Optional[float] = ..., std: _Optional[float] = ...) -> None: ...

class ReferenceProfile(_message.Message):
    __slots__ = ("features", "label", "prediction", "rows")
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedCompositeFieldContainer[Histogram]
    label: Histogram
    prediction: Histogram
    rows: int
    def __init__(self, features: _Optional[_Iterable[_Union[Histogram, _Mapping]]] = ..., label: _Optional[_Union[Histogram, _Mapping]] = ..., prediction: _Optional[_Union[Histogram, _Mapping]] = ..., rows: _Optional[int] = ...) -> None: ...
