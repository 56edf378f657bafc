from driftloop.common.v1 import common_pb2 as _common_pb2
from driftloop.training.v1 import run_pb2 as _run_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TrainingRequested(_message.Message):
    __slots__ = ("meta", "run_id", "model", "trigger", "drift_id", "window")
    META_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    DRIFT_ID_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    meta: _common_pb2.EventMeta
    run_id: str
    model: str
    trigger: _run_pb2.Trigger
    drift_id: str
    window: _run_pb2.DataWindow
    def __init__(self, meta: _Optional[_Union[_common_pb2.EventMeta, _Mapping]] = ..., run_id: _Optional[str] = ..., model: _Optional[str] = ..., trigger: _Optional[_Union[_run_pb2.Trigger, str]] = ..., drift_id: _Optional[str] = ..., window: _Optional[_Union[_run_pb2.DataWindow, _Mapping]] = ...) -> None: ...

class TrainingStarted(_message.Message):
    __slots__ = ("meta", "run_id", "model", "drift_id", "snapshot")
    META_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DRIFT_ID_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    meta: _common_pb2.EventMeta
    run_id: str
    model: str
    drift_id: str
    snapshot: _run_pb2.DatasetSnapshot
    def __init__(self, meta: _Optional[_Union[_common_pb2.EventMeta, _Mapping]] = ..., run_id: _Optional[str] = ..., model: _Optional[str] = ..., drift_id: _Optional[str] = ..., snapshot: _Optional[_Union[_run_pb2.DatasetSnapshot, _Mapping]] = ...) -> None: ...

class TrainingCompleted(_message.Message):
    __slots__ = ("meta", "run_id", "model", "drift_id", "version", "gate_passed", "gate_reason", "metrics", "champion_metrics", "champion_version", "snapshot_id", "reused")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class ChampionMetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    META_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DRIFT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    GATE_PASSED_FIELD_NUMBER: _ClassVar[int]
    GATE_REASON_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    CHAMPION_METRICS_FIELD_NUMBER: _ClassVar[int]
    CHAMPION_VERSION_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    REUSED_FIELD_NUMBER: _ClassVar[int]
    meta: _common_pb2.EventMeta
    run_id: str
    model: str
    drift_id: str
    version: int
    gate_passed: bool
    gate_reason: str
    metrics: _containers.ScalarMap[str, float]
    champion_metrics: _containers.ScalarMap[str, float]
    champion_version: int
    snapshot_id: str
    reused: bool
    def __init__(self, meta: _Optional[_Union[_common_pb2.EventMeta, _Mapping]] = ..., run_id: _Optional[str] = ..., model: _Optional[str] = ..., drift_id: _Optional[str] = ..., version: _Optional[int] = ..., gate_passed: _Optional[bool] = ..., gate_reason: _Optional[str] = ..., metrics: _Optional[_Mapping[str, float]] = ..., champion_metrics: _Optional[_Mapping[str, float]] = ..., champion_version: _Optional[int] = ..., snapshot_id: _Optional[str] = ..., reused: _Optional[bool] = ...) -> None: ...

class TrainingFailed(_message.Message):
    __slots__ = ("meta", "run_id", "model", "drift_id", "reason", "failure_kind")
    META_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DRIFT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    FAILURE_KIND_FIELD_NUMBER: _ClassVar[int]
    meta: _common_pb2.EventMeta
    run_id: str
    model: str
    drift_id: str
    reason: str
    failure_kind: str
    def __init__(self, meta: _Optional[_Union[_common_pb2.EventMeta, _Mapping]] = ..., run_id: _Optional[str] = ..., model: _Optional[str] = ..., drift_id: _Optional[str] = ..., reason: _Optional[str] = ..., failure_kind: _Optional[str] = ...) -> None: ...
