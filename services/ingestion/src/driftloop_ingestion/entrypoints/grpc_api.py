"""The ``IngestionService`` gRPC servicer: thin handlers over the use cases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import grpc

from driftloop.ingestion.v1 import ingestion_service_pb2 as api
from driftloop.ingestion.v1.ingestion_service_pb2_grpc import IngestionServiceServicer
from driftloop.platform.errors import InvalidArgument, ResourceExhausted
from driftloop_ingestion.codec import converters
from driftloop_ingestion.domain.records import GrpcOrigin
from driftloop_ingestion.service.catalog import StreamCatalog
from driftloop_ingestion.service.intake import RecordIntake, Submission
from driftloop_ingestion.service.labels import LabelIntake
from driftloop_ingestion.settings import IngestionSettings

SERVICE = "driftloop.ingestion.v1.IngestionService"


def _request_id(context: grpc.aio.ServicerContext) -> str:
    return dict(context.invocation_metadata() or ()).get("x-request-id", "")


class IngestionServicer(IngestionServiceServicer):
    def __init__(
        self,
        records: RecordIntake,
        labels: LabelIntake,
        catalog: StreamCatalog,
        settings: IngestionSettings,
    ) -> None:
        self.records = records
        self.labels = labels
        self.catalog = catalog
        self.settings = settings

    def _submissions(
        self,
        request: api.IngestRecordsRequest,
        context: grpc.aio.ServicerContext,
        method: str,
        start: int,
    ) -> list[Submission]:
        n = len(request.records)
        if n > self.settings.max_batch_records:
            raise InvalidArgument(
                f"records: {n} records in one request, limit {self.settings.max_batch_records}"
            )
        peer, rid, limit = context.peer(), _request_id(context), self.settings.max_record_bytes
        return [
            converters.submission_from_input(
                rec, request.stream, GrpcOrigin(peer, method, rid, start + i), limit
            )
            for i, rec in enumerate(request.records)
        ]

    async def IngestRecords(self, request, context):
        subs = self._submissions(request, context, f"/{SERVICE}/IngestRecords", 0)
        return converters.record_results(await self.records.ingest(subs))

    async def StreamRecords(self, request_iterator, context):
        method, limit = f"/{SERVICE}/StreamRecords", self.settings.max_stream_records

        async def batches() -> AsyncIterator[Sequence[Submission]]:
            seen = 0
            async for request in request_iterator:
                if seen + len(request.records) > limit:
                    raise ResourceExhausted(
                        f"records: more than {limit} records in one stream; start a new call"
                    )
                yield self._submissions(request, context, method, seen)
                seen += len(request.records)

        results = await self.records.ingest_stream(batches(), self.settings.stream_max_inflight)
        return converters.record_results(results)

    async def SubmitLabels(self, request, context):
        n = len(request.labels)
        if n > self.settings.max_batch_records:
            raise InvalidArgument(
                f"labels: {n} labels in one request, limit {self.settings.max_batch_records}"
            )
        peer, rid = context.peer(), _request_id(context)
        method = f"/{SERVICE}/SubmitLabels"
        subs = [
            converters.label_from_input(label, request.stream, GrpcOrigin(peer, method, rid, i))
            for i, label in enumerate(request.labels)
        ]
        return converters.label_results(await self.labels.submit(subs))

    async def RegisterStream(self, request, context):
        spec, new = self.catalog.register(converters.spec_from_proto(request.schema))
        return api.RegisterStreamResponse(schema=converters.spec_to_proto(spec), new_version=new)

    async def GetStream(self, request, context):
        return converters.spec_to_proto(self.catalog.get(request.name, request.version))

    async def ListStreams(self, request, context):
        return api.ListStreamsResponse(
            streams=[converters.spec_to_proto(s) for s in self.catalog.list()]
        )
