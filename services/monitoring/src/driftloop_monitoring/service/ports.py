"""What the use cases need from the outside: a state store and metrics."""

from __future__ import annotations

from typing import Protocol

from driftloop_monitoring.domain.canary import Rollout
from driftloop_monitoring.domain.join import JoinBuffer
from driftloop_monitoring.domain.model import ModelState


class StateStore(Protocol):
    """Keeps what must survive a restart. ``flush`` makes the changes since
    the last flush durable; it runs before input offsets are committed."""

    @property
    def buffer(self) -> JoinBuffer: ...

    def load_models(self) -> dict[str, ModelState]: ...
    def save_model(self, state: ModelState) -> None: ...
    def load_rollouts(self) -> dict[str, Rollout]: ...
    def save_rollout(self, rollout: Rollout) -> None: ...
    def load_cooldowns(self) -> dict[str, float]: ...
    def save_cooldown(self, model: str, at: float) -> None: ...
    def flush(self) -> None: ...


class MemoryStore:
    """A store that forgets everything at exit (unit tests, benchmarks)."""

    def __init__(self) -> None:
        self.buffer = JoinBuffer()
        self.models: dict[str, ModelState] = {}
        self.rollouts: dict[str, Rollout] = {}
        self.cooldowns: dict[str, float] = {}

    def load_models(self) -> dict[str, ModelState]:
        return dict(self.models)

    def save_model(self, state: ModelState) -> None:
        self.models[state.name] = state

    def load_rollouts(self) -> dict[str, Rollout]:
        return dict(self.rollouts)

    def save_rollout(self, rollout: Rollout) -> None:
        self.rollouts[rollout.model] = rollout

    def load_cooldowns(self) -> dict[str, float]:
        return dict(self.cooldowns)

    def save_cooldown(self, model: str, at: float) -> None:
        self.cooldowns[model] = at

    def flush(self) -> None:
        pass
