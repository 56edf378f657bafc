import datetime

from driftloop.common.v1 import access_pb2 as _access_pb2
from driftloop.common.v1 import common_pb2 as _common_pb2
from driftloop.registry.v1 import model_pb2 as _model_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RegisterModelVersionMetadata(_message.Message):
    __slots__ = ("model", "metrics", "tags", "run_id", "dataset_snapshot_id", "parent_version", "feature_view", "feature_view_version", "feature_width", "reference_profile", "task", "description", "expected_sha256", "caused_by_event_id")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MODEL_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    DATASET_SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    FEATURE_VIEW_VERSION_FIELD_NUMBER: _ClassVar[int]
    FEATURE_WIDTH_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_PROFILE_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_SHA256_FIELD_NUMBER: _ClassVar[int]
    CAUSED_BY_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    model: str
    metrics: _containers.ScalarMap[str, float]
    tags: _containers.ScalarMap[str, str]
    run_id: str
    dataset_snapshot_id: str
    parent_version: int
    feature_view: str
    feature_view_version: int
    feature_width: int
    reference_profile: _common_pb2.ReferenceProfile
    task: _common_pb2.TaskKind
    description: str
    expected_sha256: str
    caused_by_event_id: str
    def __init__(self, model: _Optional[str] = ..., metrics: _Optional[_Mapping[str, float]] = ..., tags: _Optional[_Mapping[str, str]] = ..., run_id: _Optional[str] = ..., dataset_snapshot_id: _Optional[str] = ..., parent_version: _Optional[int] = ..., feature_view: _Optional[str] = ..., feature_view_version: _Optional[int] = ..., feature_width: _Optional[int] = ..., reference_profile: _Optional[_Union[_common_pb2.ReferenceProfile, _Mapping]] = ..., task: _Optional[_Union[_common_pb2.TaskKind, str]] = ..., description: _Optional[str] = ..., expected_sha256: _Optional[str] = ..., caused_by_event_id: _Optional[str] = ...) -> None: ...

class RegisterModelVersionRequest(_message.Message):
    __slots__ = ("metadata", "chunk")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    metadata: RegisterModelVersionMetadata
    chunk: bytes
    def __init__(self, metadata: _Optional[_Union[RegisterModelVersionMetadata, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class GetModelVersionRequest(_message.Message):
    __slots__ = ("model", "version", "alias")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    alias: str
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ..., alias: _Optional[str] = ...) -> None: ...

class ModelSummary(_message.Message):
    __slots__ = ("name", "latest_version", "aliases")
    class AliasesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    LATEST_VERSION_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    name: str
    latest_version: int
    aliases: _containers.ScalarMap[str, int]
    def __init__(self, name: _Optional[str] = ..., latest_version: _Optional[int] = ..., aliases: _Optional[_Mapping[str, int]] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[ModelSummary]
    def __init__(self, models: _Optional[_Iterable[_Union[ModelSummary, _Mapping]]] = ...) -> None: ...

class MetricFilter(_message.Message):
    __slots__ = ("metric", "op", "value")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    OP_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    metric: str
    op: str
    value: float
    def __init__(self, metric: _Optional[str] = ..., op: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...

class ListModelVersionsRequest(_message.Message):
    __slots__ = ("model", "alias", "tags", "metrics")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    model: str
    alias: str
    tags: _containers.ScalarMap[str, str]
    metrics: _containers.RepeatedCompositeFieldContainer[MetricFilter]
    def __init__(self, model: _Optional[str] = ..., alias: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ..., metrics: _Optional[_Iterable[_Union[MetricFilter, _Mapping]]] = ...) -> None: ...

class ListModelVersionsResponse(_message.Message):
    __slots__ = ("versions",)
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[_model_pb2.ModelVersion]
    def __init__(self, versions: _Optional[_Iterable[_Union[_model_pb2.ModelVersion, _Mapping]]] = ...) -> None: ...

class SetAliasRequest(_message.Message):
    __slots__ = ("model", "alias", "version", "expected_version", "reason", "caused_by_event_id")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CAUSED_BY_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    model: str
    alias: str
    version: int
    expected_version: int
    reason: str
    caused_by_event_id: str
    def __init__(self, model: _Optional[str] = ..., alias: _Optional[str] = ..., version: _Optional[int] = ..., expected_version: _Optional[int] = ..., reason: _Optional[str] = ..., caused_by_event_id: _Optional[str] = ...) -> None: ...

class DeleteAliasRequest(_message.Message):
    __slots__ = ("model", "alias", "expected_version", "reason", "caused_by_event_id")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CAUSED_BY_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    model: str
    alias: str
    expected_version: int
    reason: str
    caused_by_event_id: str
    def __init__(self, model: _Optional[str] = ..., alias: _Optional[str] = ..., expected_version: _Optional[int] = ..., reason: _Optional[str] = ..., caused_by_event_id: _Optional[str] = ...) -> None: ...

class AliasHistoryEntry(_message.Message):
    __slots__ = ("model", "alias", "version", "previous_version", "reason", "caused_by_event_id", "changed_at", "sequence")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_VERSION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CAUSED_BY_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    model: str
    alias: str
    version: int
    previous_version: int
    reason: str
    caused_by_event_id: str
    changed_at: _timestamp_pb2.Timestamp
    sequence: int
    def __init__(self, model: _Optional[str] = ..., alias: _Optional[str] = ..., version: _Optional[int] = ..., previous_version: _Optional[int] = ..., reason: _Optional[str] = ..., caused_by_event_id: _Optional[str] = ..., changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sequence: _Optional[int] = ...) -> None: ...

class DownloadArtifactRequest(_message.Message):
    __slots__ = ("model", "version")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class ArtifactChunk(_message.Message):
    __slots__ = ("data", "sha256", "size")
    DATA_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    sha256: str
    size: int
    def __init__(self, data: _Optional[bytes] = ..., sha256: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class GetLineageRequest(_message.Message):
    __slots__ = ("model", "version")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class Lineage(_message.Message):
    __slots__ = ("chain",)
    CHAIN_FIELD_NUMBER: _ClassVar[int]
    chain: _containers.RepeatedCompositeFieldContainer[_model_pb2.ModelVersion]
    def __init__(self, chain: _Optional[_Iterable[_Union[_model_pb2.ModelVersion, _Mapping]]] = ...) -> None: ...

class GetAliasHistoryRequest(_message.Message):
    __slots__ = ("model", "alias", "at")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    model: str
    alias: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, model: _Optional[str] = ..., alias: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetAliasHistoryResponse(_message.Message):
    __slots__ = ("entries", "at_entry")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    AT_ENTRY_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[AliasHistoryEntry]
    at_entry: AliasHistoryEntry
    def __init__(self, entries: _Optional[_Iterable[_Union[AliasHistoryEntry, _Mapping]]] = ..., at_entry: _Optional[_Union[AliasHistoryEntry, _Mapping]] = ...) -> None: ...
