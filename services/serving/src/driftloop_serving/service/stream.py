"""Stream scoring: every feature vector is scored by each model that reads
its feature view, routed like a gRPC request (sticky by entity id)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from driftloop.platform.errors import InvalidArgument
from driftloop_serving.domain.models import Catalog
from driftloop_serving.domain.predictions import Scored
from driftloop_serving.domain.routing import Role
from driftloop_serving.service.inference import Predictor
from driftloop_serving.service.predictions import PredictionSink


@dataclass(frozen=True)
class FeatureVector:
    event_id: str
    record_id: str
    entity_id: str
    view: str
    view_version: int
    names: tuple[str, ...]
    values: tuple[float, ...]


class StreamScorer:
    def __init__(self, catalog: Catalog, predictor: Predictor, sink: PredictionSink) -> None:
        self.catalog = catalog
        self.predictor = predictor
        self.sink = sink

    async def score(self, vector: FeatureVector) -> int:
        """Score with every matching model; returns how many models scored it.
        A vector that does not fit a model's input raises InvalidArgument
        (after the models it fits have scored it)."""
        scored, errors = 0, []
        row = np.asarray([vector.values], dtype=np.float32)
        for served in self.catalog:
            head = served.champion or served.candidate
            if head is None or head.info.feature_view != vector.view:
                continue
            if head.info.feature_view_version and vector.view_version != (
                head.info.feature_view_version
            ):
                continue
            started = time.perf_counter()
            loaded, role, shadow = served.pick(vector.entity_id or vector.record_id)
            targets = [(loaded, role)] + ([(shadow, Role.SHADOW)] if shadow else [])
            for target, target_role in targets:
                spec = target.runner.inputs[0]
                width = spec.shape[-1] if spec.shape else -1
                if width >= 0 and width != row.shape[1]:
                    errors.append(
                        f"{served.name} v{target.version}: input {spec.name!r} takes {width} "
                        f"values, view {vector.view!r} gave {row.shape[1]}"
                    )
                    continue
                outputs = await self.predictor.score(target, {spec.name: row})
                self.sink.record(
                    Scored(
                        "stream",
                        vector.event_id,
                        vector.record_id,
                        vector.entity_id,
                        target.info,
                        target_role,
                        vector.names,
                        row,
                        outputs,
                        (time.perf_counter() - started) * 1000.0,
                        time.time(),
                    )
                )
                scored += 1
        if errors:
            raise InvalidArgument("; ".join(errors))
        return scored
