"""The feature service's online store over gRPC (``GetOnlineFeatures``).

Lookups are batched without a timer: per view, one call is in flight at a
time, and the lookups asked for meanwhile go out together in the next call
(up to ``max_entities`` entities). A Python gRPC client call costs far more
CPU than the lookup itself, so under concurrent entity-keyed requests N calls
become one; a lone request goes out at once.
"""

from __future__ import annotations

import asyncio

import grpc

from driftloop.feature.v1 import feature_service_pb2, feature_service_pb2_grpc
from driftloop.platform.errors import NotFound, Unavailable
from driftloop_serving.service.entities import EntityVector

Pending = dict[str, list[asyncio.Future[EntityVector | None]]]


class GrpcFeatures:
    """:class:`~driftloop_serving.service.entities.FeatureLookup` over a channel."""

    def __init__(
        self, channel: grpc.aio.Channel, max_entities: int = 1000, wait_s: float = 10.0
    ) -> None:
        self._stub = feature_service_pb2_grpc.FeatureServiceStub(channel)
        self._max = max_entities
        # A restarting feature service is waited for (wait_for_ready), not
        # failed at once: its clients see a slower answer, not an error.
        self._wait_s = wait_s
        self._queued: dict[str, Pending] = {}  # view -> entity -> waiters
        self._busy: set[str] = set()  # views with a call in flight

    async def newest(self, view: str, entity_id: str) -> EntityVector | None:
        future: asyncio.Future[EntityVector | None] = asyncio.get_running_loop().create_future()
        self._queued.setdefault(view, {}).setdefault(entity_id, []).append(future)
        if view not in self._busy:
            self._busy.add(view)
            asyncio.get_running_loop().create_task(self._drain(view))
        return await future

    async def _drain(self, view: str) -> None:
        try:
            while waiting := self._queued.pop(view, None):
                if len(waiting) > self._max:
                    items = list(waiting.items())
                    waiting, self._queued[view] = dict(items[: self._max]), dict(items[self._max :])
                await self._lookup(view, waiting)
        finally:
            self._busy.discard(view)

    async def _lookup(self, view: str, waiting: Pending) -> None:
        request = feature_service_pb2.GetOnlineFeaturesRequest(view=view, entity_ids=list(waiting))
        try:
            reply = await self._stub.GetOnlineFeatures(
                request, timeout=self._wait_s, wait_for_ready=True
            )
        except grpc.aio.AioRpcError as exc:
            _fail(waiting, _error(exc))
            return
        except asyncio.CancelledError:
            _fail(waiting, Unavailable("serving is stopping"))
            raise
        names = tuple(reply.feature_names)
        for found in reply.vectors:
            vector = (
                EntityVector(
                    view=reply.view,
                    view_version=reply.view_version,
                    names=names,
                    values=tuple(found.values),
                    record_id=found.record_id,
                    age_s=found.age.ToTimedelta().total_seconds(),
                )
                if found.found
                else None
            )
            for f in waiting.pop(found.entity_id, ()):
                if not f.done():
                    f.set_result(vector)
        for futures in waiting.values():  # not in the reply: none
            for f in futures:
                if not f.done():
                    f.set_result(None)


def _fail(waiting: Pending, error: Exception) -> None:
    for futures in waiting.values():
        for f in futures:
            if not f.done():
                f.set_exception(error)


def _error(exc: grpc.aio.AioRpcError) -> Exception:
    if exc.code() == grpc.StatusCode.NOT_FOUND:
        return NotFound(f"feature service: {exc.details()}")
    return Unavailable(f"feature service unavailable: {exc.code().name} {exc.details()}")
