import datetime

from driftloop.common.v1 import common_pb2 as _common_pb2
from driftloop.serving.v1 import admin_service_pb2 as _admin_service_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PredictionSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PREDICTION_SOURCE_UNSPECIFIED: _ClassVar[PredictionSource]
    PREDICTION_SOURCE_GRPC: _ClassVar[PredictionSource]
    PREDICTION_SOURCE_STREAM: _ClassVar[PredictionSource]
PREDICTION_SOURCE_UNSPECIFIED: PredictionSource
PREDICTION_SOURCE_GRPC: PredictionSource
PREDICTION_SOURCE_STREAM: PredictionSource

class PredictionRows(_message.Message):
    __slots__ = ("count", "features", "predictions", "probabilities")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    count: int
    features: _containers.RepeatedScalarFieldContainer[float]
    predictions: _containers.RepeatedScalarFieldContainer[float]
    probabilities: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, count: _Optional[int] = ..., features: _Optional[_Iterable[float]] = ..., predictions: _Optional[_Iterable[float]] = ..., probabilities: _Optional[_Iterable[float]] = ...) -> None: ...

class PredictionMade(_message.Message):
    __slots__ = ("meta", "request_id", "record_id", "entity_id", "model", "role", "feature_names", "features", "prediction", "probabilities", "latency_ms", "source", "predicted_at", "record_id_generated", "vector_record_id", "rows")
    META_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    FEATURE_NAMES_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_FIELD_NUMBER: _ClassVar[int]
    PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_AT_FIELD_NUMBER: _ClassVar[int]
    RECORD_ID_GENERATED_FIELD_NUMBER: _ClassVar[int]
    VECTOR_RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    meta: _common_pb2.EventMeta
    request_id: str
    record_id: str
    entity_id: str
    model: _common_pb2.ModelRef
    role: _common_pb2.ModelRole
    feature_names: _containers.RepeatedScalarFieldContainer[str]
    features: _containers.RepeatedScalarFieldContainer[float]
    prediction: float
    probabilities: _containers.RepeatedScalarFieldContainer[float]
    latency_ms: float
    source: PredictionSource
    predicted_at: _timestamp_pb2.Timestamp
    record_id_generated: bool
    vector_record_id: str
    rows: PredictionRows
    def __init__(self, meta: _Optional[_Union[_common_pb2.EventMeta, _Mapping]] = ..., request_id: _Optional[str] = ..., record_id: _Optional[str] = ..., entity_id: _Optional[str] = ..., model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., role: _Optional[_Union[_common_pb2.ModelRole, str]] = ..., feature_names: _Optional[_Iterable[str]] = ..., features: _Optional[_Iterable[float]] = ..., prediction: _Optional[float] = ..., probabilities: _Optional[_Iterable[float]] = ..., latency_ms: _Optional[float] = ..., source: _Optional[_Union[PredictionSource, str]] = ..., predicted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., record_id_generated: _Optional[bool] = ..., vector_record_id: _Optional[str] = ..., rows: _Optional[_Union[PredictionRows, _Mapping]] = ...) -> None: ...

class ModelLoaded(_message.Message):
    __slots__ = ("meta", "model", "role", "load_ms")
    META_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    LOAD_MS_FIELD_NUMBER: _ClassVar[int]
    meta: _common_pb2.EventMeta
    model: _common_pb2.ModelRef
    role: _common_pb2.ModelRole
    load_ms: float
    def __init__(self, meta: _Optional[_Union[_common_pb2.EventMeta, _Mapping]] = ..., model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., role: _Optional[_Union[_common_pb2.ModelRole, str]] = ..., load_ms: _Optional[float] = ...) -> None: ...

class ModelLoadFailed(_message.Message):
    __slots__ = ("meta", "model", "reason")
    META_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    meta: _common_pb2.EventMeta
    model: _common_pb2.ModelRef
    reason: str
    def __init__(self, meta: _Optional[_Union[_common_pb2.EventMeta, _Mapping]] = ..., model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class RegistryAnswerLacksModel(_message.Message):
    __slots__ = ("meta", "model", "alias", "reason")
    META_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    meta: _common_pb2.EventMeta
    model: _common_pb2.ModelRef
    alias: str
    reason: str
    def __init__(self, meta: _Optional[_Union[_common_pb2.EventMeta, _Mapping]] = ..., model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., alias: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class TrafficSplitPinned(_message.Message):
    __slots__ = ("meta", "model", "candidate_share", "mode", "pinned", "replica")
    META_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_SHARE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    PINNED_FIELD_NUMBER: _ClassVar[int]
    REPLICA_FIELD_NUMBER: _ClassVar[int]
    meta: _common_pb2.EventMeta
    model: str
    candidate_share: float
    mode: _admin_service_pb2.TrafficMode
    pinned: bool
    replica: str
    def __init__(self, meta: _Optional[_Union[_common_pb2.EventMeta, _Mapping]] = ..., model: _Optional[str] = ..., candidate_share: _Optional[float] = ..., mode: _Optional[_Union[_admin_service_pb2.TrafficMode, str]] = ..., pinned: _Optional[bool] = ..., replica: _Optional[str] = ...) -> None: ...
