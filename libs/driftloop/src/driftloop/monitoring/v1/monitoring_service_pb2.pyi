from driftloop.common.v1 import access_pb2 as _access_pb2
from driftloop.common.v1 import common_pb2 as _common_pb2
from driftloop.monitoring.v1 import events_pb2 as _events_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetModelHealthRequest(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: str
    def __init__(self, model: _Optional[str] = ...) -> None: ...

class VersionQuality(_message.Message):
    __slots__ = ("model", "role", "predictions", "labelled", "metrics")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    LABELLED_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    role: _common_pb2.ModelRole
    predictions: int
    labelled: int
    metrics: _containers.ScalarMap[str, float]
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., role: _Optional[_Union[_common_pb2.ModelRole, str]] = ..., predictions: _Optional[int] = ..., labelled: _Optional[int] = ..., metrics: _Optional[_Mapping[str, float]] = ...) -> None: ...

class ModelHealth(_message.Message):
    __slots__ = ("model", "versions", "features", "recent_drift", "label_join_lag_seconds_p50", "unmatched_predictions", "unmatched_labels")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    RECENT_DRIFT_FIELD_NUMBER: _ClassVar[int]
    LABEL_JOIN_LAG_SECONDS_P50_FIELD_NUMBER: _ClassVar[int]
    UNMATCHED_PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    UNMATCHED_LABELS_FIELD_NUMBER: _ClassVar[int]
    model: str
    versions: _containers.RepeatedCompositeFieldContainer[VersionQuality]
    features: _containers.RepeatedCompositeFieldContainer[_events_pb2.FeatureDrift]
    recent_drift: _containers.RepeatedCompositeFieldContainer[_events_pb2.DriftDetected]
    label_join_lag_seconds_p50: float
    unmatched_predictions: int
    unmatched_labels: int
    def __init__(self, model: _Optional[str] = ..., versions: _Optional[_Iterable[_Union[VersionQuality, _Mapping]]] = ..., features: _Optional[_Iterable[_Union[_events_pb2.FeatureDrift, _Mapping]]] = ..., recent_drift: _Optional[_Iterable[_Union[_events_pb2.DriftDetected, _Mapping]]] = ..., label_join_lag_seconds_p50: _Optional[float] = ..., unmatched_predictions: _Optional[int] = ..., unmatched_labels: _Optional[int] = ...) -> None: ...

class GetRolloutStatusRequest(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: str
    def __init__(self, model: _Optional[str] = ...) -> None: ...

class RolloutStatus(_message.Message):
    __slots__ = ("model", "active", "rollout_id", "champion", "candidate", "candidate_share", "evidence", "phase")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_ID_FIELD_NUMBER: _ClassVar[int]
    CHAMPION_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_SHARE_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    model: str
    active: bool
    rollout_id: str
    champion: _common_pb2.ModelRef
    candidate: _common_pb2.ModelRef
    candidate_share: float
    evidence: _events_pb2.CanaryEvidence
    phase: str
    def __init__(self, model: _Optional[str] = ..., active: _Optional[bool] = ..., rollout_id: _Optional[str] = ..., champion: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., candidate: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., candidate_share: _Optional[float] = ..., evidence: _Optional[_Union[_events_pb2.CanaryEvidence, _Mapping]] = ..., phase: _Optional[str] = ...) -> None: ...
