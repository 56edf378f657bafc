"""The inference use case: find who answers, check the request against the
model's signature, score, and hand the result to the prediction sink."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import structlog

from driftloop.platform.errors import (
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unavailable,
)
from driftloop_serving.domain.models import Catalog, Loaded, ServedModel
from driftloop_serving.domain.predictions import Scored
from driftloop_serving.domain.routing import Role
from driftloop_serving.service.entities import EntityInputs, EntityVector
from driftloop_serving.service.predictions import PredictionSink

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class InferInput:
    name: str
    datatype: str
    shape: tuple[int, ...]
    data: np.ndarray


@dataclass(slots=True)
class InferRequest:
    model: str
    version: str = ""
    id: str = ""
    entity_id: str = ""
    view: str = ""  # entity-keyed requests: the feature view (default: the model's)
    inputs: list[InferInput] | None = None
    outputs: list[str] | None = None  # requested output names; None or []: all


@dataclass(slots=True)
class InferResult:
    model: str
    version: int
    role: Role
    id: str
    outputs: list[tuple[str, np.ndarray]]
    #: Entity-keyed requests: the record whose online vector was scored.
    vector_record_id: str = ""


class Predictor:
    """Answers inference requests from the catalog's loaded versions."""

    def __init__(
        self,
        catalog: Catalog,
        sink: PredictionSink,
        *,
        max_rows: int,
        offload_rows: int,
        entities: EntityInputs | None = None,
    ) -> None:
        self.catalog = catalog
        self.sink = sink
        self.entities = entities
        self.max_rows = max_rows
        self.offload_rows = offload_rows
        self._anonymous = itertools.count()
        prefix, ids = f"gen-{uuid.uuid4().hex[:12]}-", itertools.count()
        # Unique per process and cheap: a random prefix and a counter.
        self._new_id = lambda: f"{prefix}{next(ids):x}"

    def served(self, name: str) -> ServedModel:
        served = self.catalog.get(name)
        if served is None or not (served.ready or served.loading):
            raise NotFound(f"model {name!r} is not served here")
        return served

    def resolve(self, name: str, version: str) -> tuple[Loaded, Role] | None:
        """The version asked for by number, or None for "route it"."""
        served = self.served(name)
        if not version:
            if not served.ready:
                raise Unavailable(f"model {name!r} is loading")
            return None
        try:
            number = int(version)
        except ValueError:
            raise InvalidArgument(f"model_version {version!r} is not a version number") from None
        found = served.by_version(number)
        if found is None:
            if number in served.loading:
                raise Unavailable(f"model {name!r} version {number} is loading")
            raise NotFound(f"model {name!r} version {number} is not served here")
        return found

    async def infer(self, request: InferRequest, started: float | None = None) -> InferResult:
        started = time.perf_counter() if started is None else started
        fixed = self.resolve(request.model, request.version)
        shadow: Loaded | None = None
        if fixed is None:
            key = request.entity_id or request.id or f"#{next(self._anonymous)}"
            loaded, role, shadow = self.served(request.model).pick(key)
        else:
            loaded, role = fixed
        vector: EntityVector | None = None
        loaded.acquire()
        try:
            if not request.inputs and request.entity_id and self.entities is not None:
                found = await self.entities.feeds(loaded, request.entity_id, request.view)
                feeds, rows, vector = found.feeds, 1, found.vector
            else:
                feeds, rows = self._feeds(loaded, request.inputs or [])
            outputs = await self._run(loaded, feeds, rows)
        finally:
            loaded.release()
        by_name = dict(zip(loaded.output_names, outputs, strict=True))
        result = InferResult(
            request.model,
            loaded.version,
            role,
            request.id,
            self._select(by_name, request.outputs),
            vector.record_id if vector else "",
        )
        made = _Made(request, feeds, vector, self._new_id)
        self.sink.record(made.scored(loaded, role, by_name, started))
        if shadow is not None:
            asyncio.get_running_loop().call_soon(self._mirror, shadow, made, rows)
        return result

    async def score(self, loaded: Loaded, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Score prepared feeds with one loaded version (stream scoring)."""
        loaded.acquire()
        try:
            outputs = await self._run(loaded, feeds, len(next(iter(feeds.values()))))
        finally:
            loaded.release()
        return dict(zip(loaded.output_names, outputs, strict=True))

    def _feeds(self, loaded: Loaded, inputs: list[InferInput]) -> tuple[dict[str, np.ndarray], int]:
        specs = loaded.input_specs
        feeds: dict[str, np.ndarray] = {}
        for item in inputs:
            spec = specs.get(item.name)
            if spec is None:
                raise InvalidArgument(
                    f"input {item.name!r} is not an input of model; expected {sorted(specs)}"
                )
            spec.check(item.datatype, item.shape)
            feeds[item.name] = item.data
        missing = specs.keys() - feeds.keys()
        if missing:
            raise InvalidArgument(f"input {sorted(missing)[0]!r} is missing")
        rows = 1
        for name, array in feeds.items():
            if array.ndim and array.shape[0] == 0:
                raise InvalidArgument(
                    f"input {name!r}: shape {list(array.shape)} has no rows; "
                    "a request needs at least one"
                )
            if array.ndim and array.shape[0] > rows:
                rows = array.shape[0]
        if rows > self.max_rows:
            raise ResourceExhausted(
                f"request has {rows} rows; at most {self.max_rows} per request are accepted"
            )
        return feeds, rows

    async def _run(self, loaded: Loaded, feeds: dict[str, np.ndarray], rows: int) -> list:
        # Small batches score in microseconds: a thread hop would cost more
        # than it saves. Large ones must not stall the event loop.
        if rows <= self.offload_rows:
            return loaded.runner.run(feeds)
        return await asyncio.to_thread(loaded.runner.run, feeds)

    @staticmethod
    def _select(
        outputs: dict[str, np.ndarray], wanted: list[str] | None
    ) -> list[tuple[str, np.ndarray]]:
        if not wanted:
            return list(outputs.items())
        selected = []
        for name in wanted:
            if name not in outputs:
                raise InvalidArgument(
                    f"requested output {name!r} is not an output of model; "
                    f"expected {sorted(outputs)}"
                )
            selected.append((name, outputs[name]))
        return selected

    def _mirror(self, shadow: Loaded, made: _Made, rows: int) -> None:
        # The shadow's answer is discarded; only its prediction event remains.
        if shadow.retired or rows > self.offload_rows:
            return
        started = time.perf_counter()
        shadow.acquire()
        try:
            outputs = shadow.runner.run(made.feeds)
        except Exception as exc:
            log.warning(
                "shadow.failed", model=shadow.info.model, version=shadow.version, error=repr(exc)
            )
            return
        finally:
            shadow.release()
        by_name = dict(zip(shadow.output_names, outputs, strict=True))
        self.sink.record(made.scored(shadow, Role.SHADOW, by_name, started))


class _Made:
    """What a request's prediction events share, whichever version scored it."""

    __slots__ = ("feeds", "generated", "record_id", "request", "vector")

    def __init__(
        self,
        request: InferRequest,
        feeds: dict[str, np.ndarray],
        vector: EntityVector | None,
        new_id: Callable[[], str],
    ) -> None:
        self.request, self.feeds, self.vector = request, feeds, vector
        # The id of the entity's record the features came from (its label
        # judges this prediction, even when a newer record of the entity
        # arrived after the client asked about an older one); else the
        # request's id; else a made-up one, flagged so that monitoring does
        # not wait for a label that cannot come.
        known = (vector.record_id if vector else "") or request.id
        self.record_id, self.generated = known or new_id(), not known

    def scored(
        self, loaded: Loaded, role: Role, outputs: dict[str, np.ndarray], started: float
    ) -> Scored:
        request, vector = self.request, self.vector
        return Scored(
            "grpc",
            request.id,
            self.record_id,
            request.entity_id,
            loaded.info,
            role,
            vector.names if vector else (),
            self.feeds.get("input", next(iter(self.feeds.values()))),
            outputs,
            (time.perf_counter() - started) * 1000.0,
            time.time(),
            generated_id=self.generated,
            vector_record_id=vector.record_id if vector else "",
        )
