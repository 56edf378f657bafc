"""The serving state of each model: which loaded versions play champion and
candidate, how traffic is split between them, and when an old version may be
released (after its in-flight requests)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from driftloop_serving.domain.routing import Mode, Role, TrafficSplit
from driftloop_serving.domain.tensors import TensorSpec


class Runner(Protocol):
    """A loaded model that can score (an onnxruntime session in production)."""

    inputs: list[TensorSpec]
    outputs: list[TensorSpec]

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class VersionInfo:
    """What the registry says about a version that serving needs."""

    model: str
    version: int
    sha256: str = ""
    size: int = 0
    feature_view: str = ""
    feature_view_version: int = 0
    task: str = ""  # "classification", "regression" or "" (unknown)


@dataclass(eq=False)
class Loaded:
    """A version loaded, warmed and ready to answer."""

    info: VersionInfo
    runner: Runner
    inflight: int = 0
    retired: bool = False

    def __post_init__(self) -> None:
        self.input_specs = {spec.name: spec for spec in self.runner.inputs}
        self.output_names = [spec.name for spec in self.runner.outputs]

    @property
    def version(self) -> int:
        return self.info.version

    def acquire(self) -> Loaded:
        self.inflight += 1
        return self

    def release(self) -> None:
        self.inflight -= 1
        if self.retired and self.inflight == 0:
            self.runner.close()

    def retire(self) -> None:
        """No new request will use it; close it once the last one finished."""
        if self.retired:
            return
        self.retired = True
        if self.inflight == 0:
            self.runner.close()


@dataclass
class ServedModel:
    """One model name: its champion, candidate and traffic split."""

    name: str
    default_split: TrafficSplit = field(default_factory=TrafficSplit)
    champion: Loaded | None = None
    candidate: Loaded | None = None
    rollout: TrafficSplit | None = None
    pin: TrafficSplit | None = None
    #: Versions being fetched and loaded (requests for them get UNAVAILABLE).
    loading: set[int] = field(default_factory=set)

    @property
    def split(self) -> TrafficSplit:
        """The split in force: a pin beats a rollout, which beats the default."""
        return self.pin or self.rollout or self.default_split

    def pick(self, key: str) -> tuple[Loaded, Role, Loaded | None]:
        """The version that answers the request with routing ``key``, its role,
        and the version to mirror the request to (shadow), if any."""
        champion, candidate = self.champion, self.candidate
        if candidate is None or candidate is champion:
            assert champion is not None
            return champion, Role.CHAMPION, None
        if champion is None:
            return candidate, Role.CANDIDATE, None
        split = self.split
        if split.mirrors:
            return champion, Role.CHAMPION, candidate
        if split.routes_to_candidate(key):
            return candidate, Role.CANDIDATE, None
        return champion, Role.CHAMPION, None

    @property
    def ready(self) -> bool:
        return self.champion is not None or self.candidate is not None

    def by_version(self, version: int) -> tuple[Loaded, Role] | None:
        """A loaded version asked for by number, and the role it plays."""
        if self.champion is not None and self.champion.version == version:
            return self.champion, Role.CHAMPION
        if self.candidate is not None and self.candidate.version == version:
            return self.candidate, Role.CANDIDATE
        return None

    def loaded_versions(self) -> list[int]:
        return sorted({m.version for m in (self.champion, self.candidate) if m is not None})

    def set_champion(self, loaded: Loaded) -> None:
        """Switch the champion; the old one is released after its requests.
        A promoted candidate ends the rollout."""
        old = self.champion
        self.champion = loaded
        if self.candidate is loaded:
            self.candidate = None
            self.rollout = None
        self._retire_unless_used(old)

    def set_candidate(self, loaded: Loaded) -> None:
        old = self.candidate
        self.candidate = loaded
        self._retire_unless_used(old)

    def drop(self, alias: str) -> None:
        """An alias was deleted: stop serving what it pointed at. Dropping the
        candidate ends the rollout (rollback, or promotion seen as a delete)."""
        if alias == "candidate":
            old, self.candidate, self.rollout = self.candidate, None, None
        else:
            old, self.champion = self.champion, None
        self._retire_unless_used(old)

    def start_rollout(self, rollout_id: str, share: float, mode: Mode) -> None:
        self.rollout = TrafficSplit(share=share, mode=mode, rollout_id=rollout_id)

    def step_rollout(self, rollout_id: str, share: float, mode: Mode | None = None) -> None:
        """A new share; ``mode`` None keeps the rollout's traffic mode."""
        mode = mode or (self.rollout.mode if self.rollout else self.default_split.mode)
        self.rollout = TrafficSplit(share=share, mode=mode, rollout_id=rollout_id)

    def end_rollout(self, rollout_id: str) -> None:
        """The rollout is over: back to the default split (unless another
        rollout has started since)."""
        if self.rollout is not None and self.rollout.rollout_id == rollout_id:
            self.rollout = None

    def _retire_unless_used(self, old: Loaded | None) -> None:
        if old is not None and old is not self.champion and old is not self.candidate:
            old.retire()


class Catalog:
    """Every model this replica serves, by name."""

    def __init__(self, default_split: TrafficSplit | None = None) -> None:
        self._models: dict[str, ServedModel] = {}
        #: Models known only from rollout events (not served here, or not yet).
        self._unserved: dict[str, ServedModel] = {}
        self._default = default_split or TrafficSplit()

    def get(self, name: str) -> ServedModel | None:
        return self._models.get(name)

    def ensure(self, name: str) -> ServedModel:
        model = self._models.get(name)
        if model is None:
            model = self._unserved.pop(name, None) or ServedModel(name, default_split=self._default)
            self._models[name] = model
        return model

    def rollout_target(self, name: str) -> ServedModel:
        """The model's entry for a rollout event: its served entry, or one
        kept aside (and taken over by :meth:`ensure`), so a rollout of a model
        this replica does not serve yet neither counts as served nor is lost."""
        model = self._models.get(name)
        if model is None:
            model = self._unserved.setdefault(name, ServedModel(name, default_split=self._default))
        return model

    def __iter__(self) -> Iterator[ServedModel]:
        return iter(list(self._models.values()))
