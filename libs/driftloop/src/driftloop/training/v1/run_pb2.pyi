import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Trigger(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRIGGER_UNSPECIFIED: _ClassVar[Trigger]
    TRIGGER_DRIFT: _ClassVar[Trigger]
    TRIGGER_MANUAL: _ClassVar[Trigger]
    TRIGGER_SCHEDULE: _ClassVar[Trigger]
    TRIGGER_LABEL_COUNT: _ClassVar[Trigger]
    TRIGGER_INITIAL: _ClassVar[Trigger]

class RunState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_STATE_UNSPECIFIED: _ClassVar[RunState]
    RUN_STATE_REQUESTED: _ClassVar[RunState]
    RUN_STATE_RUNNING: _ClassVar[RunState]
    RUN_STATE_COMPLETED: _ClassVar[RunState]
    RUN_STATE_FAILED: _ClassVar[RunState]
TRIGGER_UNSPECIFIED: Trigger
TRIGGER_DRIFT: Trigger
TRIGGER_MANUAL: Trigger
TRIGGER_SCHEDULE: Trigger
TRIGGER_LABEL_COUNT: Trigger
TRIGGER_INITIAL: Trigger
RUN_STATE_UNSPECIFIED: RunState
RUN_STATE_REQUESTED: RunState
RUN_STATE_RUNNING: RunState
RUN_STATE_COMPLETED: RunState
RUN_STATE_FAILED: RunState

class DataWindow(_message.Message):
    __slots__ = ("policy", "start", "end", "last_n", "min_rows")
    POLICY_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    LAST_N_FIELD_NUMBER: _ClassVar[int]
    MIN_ROWS_FIELD_NUMBER: _ClassVar[int]
    policy: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    last_n: int
    min_rows: int
    def __init__(self, policy: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_n: _Optional[int] = ..., min_rows: _Optional[int] = ...) -> None: ...

class DatasetSnapshot(_message.Message):
    __slots__ = ("snapshot_id", "feature_view", "feature_view_version", "start", "end", "rows", "holdout_rows", "content_sha256")
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    FEATURE_VIEW_VERSION_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    HOLDOUT_ROWS_FIELD_NUMBER: _ClassVar[int]
    CONTENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    feature_view: str
    feature_view_version: int
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    rows: int
    holdout_rows: int
    content_sha256: str
    def __init__(self, snapshot_id: _Optional[str] = ..., feature_view: _Optional[str] = ..., feature_view_version: _Optional[int] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rows: _Optional[int] = ..., holdout_rows: _Optional[int] = ..., content_sha256: _Optional[str] = ...) -> None: ...

class Run(_message.Message):
    __slots__ = ("run_id", "model", "state", "trigger", "drift_id", "snapshot", "metrics", "champion_metrics", "version", "gate_passed", "error", "seed", "params", "library_versions", "created_at", "started_at", "finished_at", "trainer")
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
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class LibraryVersionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    DRIFT_ID_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    CHAMPION_METRICS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    GATE_PASSED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    LIBRARY_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    TRAINER_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    model: str
    state: RunState
    trigger: Trigger
    drift_id: str
    snapshot: DatasetSnapshot
    metrics: _containers.ScalarMap[str, float]
    champion_metrics: _containers.ScalarMap[str, float]
    version: int
    gate_passed: bool
    error: str
    seed: int
    params: _containers.ScalarMap[str, str]
    library_versions: _containers.ScalarMap[str, str]
    created_at: _timestamp_pb2.Timestamp
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    trainer: str
    def __init__(self, run_id: _Optional[str] = ..., model: _Optional[str] = ..., state: _Optional[_Union[RunState, str]] = ..., trigger: _Optional[_Union[Trigger, str]] = ..., drift_id: _Optional[str] = ..., snapshot: _Optional[_Union[DatasetSnapshot, _Mapping]] = ..., metrics: _Optional[_Mapping[str, float]] = ..., champion_metrics: _Optional[_Mapping[str, float]] = ..., version: _Optional[int] = ..., gate_passed: _Optional[bool] = ..., error: _Optional[str] = ..., seed: _Optional[int] = ..., params: _Optional[_Mapping[str, str]] = ..., library_versions: _Optional[_Mapping[str, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., trainer: _Optional[str] = ...) -> None: ...
