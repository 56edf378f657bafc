from driftloop.common.v1 import access_pb2 as _access_pb2
from driftloop.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TrafficMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRAFFIC_MODE_UNSPECIFIED: _ClassVar[TrafficMode]
    TRAFFIC_MODE_CANARY: _ClassVar[TrafficMode]
    TRAFFIC_MODE_SHADOW: _ClassVar[TrafficMode]
TRAFFIC_MODE_UNSPECIFIED: TrafficMode
TRAFFIC_MODE_CANARY: TrafficMode
TRAFFIC_MODE_SHADOW: TrafficMode

class GetRolloutStateRequest(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: str
    def __init__(self, model: _Optional[str] = ...) -> None: ...

class RolloutState(_message.Message):
    __slots__ = ("model", "champion", "candidate", "candidate_share", "mode", "pinned", "rollout_id", "loaded_versions")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    CHAMPION_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_SHARE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    PINNED_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_ID_FIELD_NUMBER: _ClassVar[int]
    LOADED_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    model: str
    champion: _common_pb2.ModelRef
    candidate: _common_pb2.ModelRef
    candidate_share: float
    mode: TrafficMode
    pinned: bool
    rollout_id: str
    loaded_versions: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, model: _Optional[str] = ..., champion: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., candidate: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., candidate_share: _Optional[float] = ..., mode: _Optional[_Union[TrafficMode, str]] = ..., pinned: _Optional[bool] = ..., rollout_id: _Optional[str] = ..., loaded_versions: _Optional[_Iterable[int]] = ...) -> None: ...

class PinTrafficSplitRequest(_message.Message):
    __slots__ = ("model", "candidate_share", "mode")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_SHARE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    model: str
    candidate_share: float
    mode: TrafficMode
    def __init__(self, model: _Optional[str] = ..., candidate_share: _Optional[float] = ..., mode: _Optional[_Union[TrafficMode, str]] = ...) -> None: ...

class ClearTrafficSplitRequest(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: str
    def __init__(self, model: _Optional[str] = ...) -> None: ...
