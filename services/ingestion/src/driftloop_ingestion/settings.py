"""Settings of the ingestion service (environment variables prefixed ``DRIFTLOOP_``)."""

from __future__ import annotations

from pydantic import Field

from driftloop.platform.settings import ServiceSettings


class IngestionSettings(ServiceSettings):
    """Everything the ingestion service can be configured with."""

    default_stream: str = Field(
        "",
        description="Stream of raw-topic records and labels that name none (no `stream` "
        "header or key). Empty: the only declared stream, when exactly one is declared.",
    )
    records_group: str = Field(
        "driftloop-ingestion-records",
        description="Consumer group reading driftloop.records.raw.",
    )
    labels_group: str = Field(
        "driftloop-ingestion-labels", description="Consumer group reading driftloop.labels.raw."
    )
    raw_batch_records: int = Field(
        5000,
        ge=1,
        description="Most raw-topic records fetched, published and committed as one batch "
        "(larger batches amortise the broker round trips of acks and commit).",
    )
    max_record_bytes: int = Field(
        64 * 1024, ge=64, description="Largest record (its JSON or protobuf bytes)."
    )
    max_string_length: int = Field(
        4096, ge=1, description="Longest string field, unless the field sets its own."
    )
    max_id_length: int = Field(
        256,
        ge=1,
        description="Longest record id, on every intake path: in the record or beside it "
        "(gRPC `RecordInput.id`, raw-topic labels).",
    )
    max_batch_records: int = Field(
        10_000, ge=1, description="Most records (or labels) in one gRPC request."
    )
    max_stream_records: int = Field(
        200_000,
        ge=1,
        description="Most records in one StreamRecords call (its response lists them all).",
    )
    stream_max_inflight: int = Field(
        4,
        ge=1,
        description="StreamRecords: request batches validated and awaiting broker acks "
        "at once; the call stops reading (backpressure) until one completes.",
    )
    dedupe_window_s: float = Field(
        600.0, ge=0, description="A caller-given id seen within this many seconds is a duplicate."
    )
    dedupe_max_ids: int = Field(
        1_000_000, ge=1, description="Most ids the dedupe window remembers (oldest forgotten)."
    )
    seen_max_ids: int = Field(
        1_000_000,
        ge=1,
        description="Most accepted record ids remembered to mark labels `record_seen`.",
    )
    bad_rate_threshold: float = Field(
        0.05, gt=0, le=1, description="Rejected share of a stream's window that raises an alert."
    )
    bad_rate_window: int = Field(
        1000, ge=1, description="Records per stream the bad-record rate is computed over."
    )
    bad_rate_min_records: int = Field(
        100, ge=1, description="Records a stream needs in its window before it can alert."
    )
    bad_rate_cooldown_s: float = Field(
        60.0, ge=0, description="Least time between two alerts for one stream."
    )
