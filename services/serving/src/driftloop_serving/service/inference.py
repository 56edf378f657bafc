"""The inference use case: find who answers, check the request against the
model's signature, score, and hand the result to the prediction sink."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass

import numpy as np
import structlog

from driftloop.platform.errors import (
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unavailable,
)
from driftloop_serving.domain.models import Catalog, Loaded, ServedModel, VersionInfo
from driftloop_serving.domain.predictions import Scored
from driftloop_serving.domain.routing import Role
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
    inputs: list[InferInput] | None = None
    outputs: list[str] | None = None  # requested output names; None or []: all


@dataclass(slots=True)
class InferResult:
    model: str
    version: int
    role: Role
    id: str
    outputs: list[tuple[str, np.ndarray]]


class Predictor:
    """Answers inference requests from the catalog's loaded versions."""

    def __init__(
        self,
        catalog: Catalog,
        sink: PredictionSink,
        *,
        max_rows: int,
        offload_rows: int,
    ) -> None:
        self.catalog = catalog
        self.sink = sink
        self.max_rows = max_rows
        self.offload_rows = offload_rows
        self._anonymous = itertools.count()

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
        loaded.acquire()
        try:
            feeds, rows = self._feeds(loaded, request.inputs or [])
            outputs = await self._run(loaded, feeds, rows)
        finally:
            loaded.release()
        by_name = dict(zip(loaded.output_names, outputs, strict=True))
        result = InferResult(
            request.model, loaded.version, role, request.id, self._select(by_name, request.outputs)
        )
        self._record(request, loaded.info, role, feeds, by_name, started)
        if shadow is not None:
            asyncio.get_running_loop().call_soon(self._mirror, shadow, feeds, request, rows)
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
        for array in feeds.values():
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

    def _mirror(
        self, shadow: Loaded, feeds: dict[str, np.ndarray], request: InferRequest, rows: int
    ) -> None:
        # The shadow's answer is discarded; only its prediction event remains.
        if shadow.retired or rows > self.offload_rows:
            return
        started = time.perf_counter()
        shadow.acquire()
        try:
            outputs = shadow.runner.run(feeds)
        except Exception as exc:
            log.warning(
                "shadow.failed", model=shadow.info.model, version=shadow.version, error=repr(exc)
            )
            return
        finally:
            shadow.release()
        by_name = dict(zip(shadow.output_names, outputs, strict=True))
        self._record(request, shadow.info, Role.SHADOW, feeds, by_name, started)

    def _record(
        self,
        request: InferRequest,
        info: VersionInfo,
        role: Role,
        feeds: dict[str, np.ndarray],
        outputs: dict[str, np.ndarray],
        started: float,
    ) -> None:
        """Hand one gRPC scoring (the answer or its shadow) to the prediction sink."""
        self.sink.record(
            Scored(
                source="grpc",
                request_id=request.id,
                record_id=request.id,
                entity_id=request.entity_id,
                info=info,
                role=role,
                feature_names=(),
                features=feeds.get("input", next(iter(feeds.values()))),
                outputs=outputs,
                latency_ms=(time.perf_counter() - started) * 1000.0,
                at=time.time(),
            )
        )
