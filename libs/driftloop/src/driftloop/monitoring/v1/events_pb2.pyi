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

class DriftKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DRIFT_KIND_UNSPECIFIED: _ClassVar[DriftKind]
    DRIFT_KIND_CONCEPT: _ClassVar[DriftKind]
    DRIFT_KIND_DATA: _ClassVar[DriftKind]
    DRIFT_KIND_PREDICTION: _ClassVar[DriftKind]

class Verdict(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERDICT_UNSPECIFIED: _ClassVar[Verdict]
    VERDICT_PROMOTE: _ClassVar[Verdict]
    VERDICT_ROLLBACK: _ClassVar[Verdict]
DRIFT_KIND_UNSPECIFIED: DriftKind
DRIFT_KIND_CONCEPT: DriftKind
DRIFT_KIND_DATA: DriftKind
DRIFT_KIND_PREDICTION: DriftKind
VERDICT_UNSPECIFIED: Verdict
VERDICT_PROMOTE: Verdict
VERDICT_ROLLBACK: Verdict

class FeatureDrift(_message.Message):
    __slots__ = ("name", "psi", "test_statistic", "p_value", "drifted")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PSI_FIELD_NUMBER: _ClassVar[int]
    TEST_STATISTIC_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_FIELD_NUMBER: _ClassVar[int]
    DRIFTED_FIELD_NUMBER: _ClassVar[int]
    name: str
    psi: float
    test_statistic: float
    p_value: float
    drifted: bool
    def __init__(self, name: _Optional[str] = ..., psi: _Optional[float] = ..., test_statistic: _Optional[float] = ..., p_value: _Optional[float] = ..., drifted: _Optional[bool] = ...) -> None: ...

class EvidenceWindow(_message.Message):
    __slots__ = ("start", "end", "samples")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    samples: int
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., samples: _Optional[int] = ...) -> None: ...

class DriftDetected(_message.Message):
    __slots__ = ("meta", "drift_id", "model", "kind", "detector", "statistic", "threshold", "features", "change_started_at", "change_started_position", "window", "dataset_drift_share", "baseline")
    META_FIELD_NUMBER: _ClassVar[int]
    DRIFT_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DETECTOR_FIELD_NUMBER: _ClassVar[int]
    STATISTIC_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    CHANGE_STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    CHANGE_STARTED_POSITION_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    DATASET_DRIFT_SHARE_FIELD_NUMBER: _ClassVar[int]
    BASELINE_FIELD_NUMBER: _ClassVar[int]
    meta: _common_pb2.EventMeta
    drift_id: str
    model: _common_pb2.ModelRef
    kind: DriftKind
    detector: str
    statistic: float
    threshold: float
    features: _containers.RepeatedCompositeFieldContainer[FeatureDrift]
    change_started_at: _timestamp_pb2.Timestamp
    change_started_position: int
    window: EvidenceWindow
    dataset_drift_share: float
    baseline: float
    def __init__(self, meta: _Optional[_Union[_common_pb2.EventMeta, _Mapping]] = ..., drift_id: _Optional[str] = ..., model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., kind: _Optional[_Union[DriftKind, str]] = ..., detector: _Optional[str] = ..., statistic: _Optional[float] = ..., threshold: _Optional[float] = ..., features: _Optional[_Iterable[_Union[FeatureDrift, _Mapping]]] = ..., change_started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., change_started_position: _Optional[int] = ..., window: _Optional[_Union[EvidenceWindow, _Mapping]] = ..., dataset_drift_share: _Optional[float] = ..., baseline: _Optional[float] = ...) -> None: ...

class CanaryEvidence(_message.Message):
    __slots__ = ("metric", "candidate_value", "champion_value", "candidate_samples", "champion_samples", "statistic", "p_value", "margin", "candidate_error_rate", "candidate_latency_p99_ms", "champion_latency_p99_ms", "prediction_psi")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_VALUE_FIELD_NUMBER: _ClassVar[int]
    CHAMPION_VALUE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    CHAMPION_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    STATISTIC_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_FIELD_NUMBER: _ClassVar[int]
    MARGIN_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_ERROR_RATE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_LATENCY_P99_MS_FIELD_NUMBER: _ClassVar[int]
    CHAMPION_LATENCY_P99_MS_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_PSI_FIELD_NUMBER: _ClassVar[int]
    metric: str
    candidate_value: float
    champion_value: float
    candidate_samples: int
    champion_samples: int
    statistic: float
    p_value: float
    margin: float
    candidate_error_rate: float
    candidate_latency_p99_ms: float
    champion_latency_p99_ms: float
    prediction_psi: float
    def __init__(self, metric: _Optional[str] = ..., candidate_value: _Optional[float] = ..., champion_value: _Optional[float] = ..., candidate_samples: _Optional[int] = ..., champion_samples: _Optional[int] = ..., statistic: _Optional[float] = ..., p_value: _Optional[float] = ..., margin: _Optional[float] = ..., candidate_error_rate: _Optional[float] = ..., candidate_latency_p99_ms: _Optional[float] = ..., champion_latency_p99_ms: _Optional[float] = ..., prediction_psi: _Optional[float] = ...) -> None: ...

class RolloutStarted(_message.Message):
    __slots__ = ("meta", "rollout_id", "model", "champion", "candidate", "mode", "candidate_share", "steps")
    META_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    CHAMPION_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_SHARE_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    meta: _common_pb2.EventMeta
    rollout_id: str
    model: str
    champion: _common_pb2.ModelRef
    candidate: _common_pb2.ModelRef
    mode: _admin_service_pb2.TrafficMode
    candidate_share: float
    steps: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, meta: _Optional[_Union[_common_pb2.EventMeta, _Mapping]] = ..., rollout_id: _Optional[str] = ..., model: _Optional[str] = ..., champion: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., candidate: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., mode: _Optional[_Union[_admin_service_pb2.TrafficMode, str]] = ..., candidate_share: _Optional[float] = ..., steps: _Optional[_Iterable[float]] = ...) -> None: ...

class RolloutStepped(_message.Message):
    __slots__ = ("meta", "rollout_id", "model", "candidate", "candidate_share", "reason", "evidence", "mode")
    META_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_SHARE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    meta: _common_pb2.EventMeta
    rollout_id: str
    model: str
    candidate: _common_pb2.ModelRef
    candidate_share: float
    reason: str
    evidence: CanaryEvidence
    mode: _admin_service_pb2.TrafficMode
    def __init__(self, meta: _Optional[_Union[_common_pb2.EventMeta, _Mapping]] = ..., rollout_id: _Optional[str] = ..., model: _Optional[str] = ..., candidate: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., candidate_share: _Optional[float] = ..., reason: _Optional[str] = ..., evidence: _Optional[_Union[CanaryEvidence, _Mapping]] = ..., mode: _Optional[_Union[_admin_service_pb2.TrafficMode, str]] = ...) -> None: ...

class RolloutDecided(_message.Message):
    __slots__ = ("meta", "rollout_id", "model", "champion", "candidate", "verdict", "reason", "evidence")
    META_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    CHAMPION_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    meta: _common_pb2.EventMeta
    rollout_id: str
    model: str
    champion: _common_pb2.ModelRef
    candidate: _common_pb2.ModelRef
    verdict: Verdict
    reason: str
    evidence: CanaryEvidence
    def __init__(self, meta: _Optional[_Union[_common_pb2.EventMeta, _Mapping]] = ..., rollout_id: _Optional[str] = ..., model: _Optional[str] = ..., champion: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., candidate: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., verdict: _Optional[_Union[Verdict, str]] = ..., reason: _Optional[str] = ..., evidence: _Optional[_Union[CanaryEvidence, _Mapping]] = ...) -> None: ...

class RolloutCompleted(_message.Message):
    __slots__ = ("meta", "rollout_id", "model", "verdict", "champion")
    META_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    CHAMPION_FIELD_NUMBER: _ClassVar[int]
    meta: _common_pb2.EventMeta
    rollout_id: str
    model: str
    verdict: Verdict
    champion: _common_pb2.ModelRef
    def __init__(self, meta: _Optional[_Union[_common_pb2.EventMeta, _Mapping]] = ..., rollout_id: _Optional[str] = ..., model: _Optional[str] = ..., verdict: _Optional[_Union[Verdict, str]] = ..., champion: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ...) -> None: ...
