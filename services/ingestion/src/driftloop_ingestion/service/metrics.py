"""Prometheus counters of what ingestion accepted and rejected."""

from __future__ import annotations

from collections import Counter as Tally

from prometheus_client import Counter

RECORDS = Counter(
    "driftloop_ingestion_records_total",
    "Records handled, by stream, outcome (accepted, rejected, duplicate) and reason",
    ["stream", "outcome", "reason"],
)
LABELS = Counter(
    "driftloop_ingestion_labels_total",
    "Labels handled, by stream, outcome and reason; record_seen tells whether the "
    "record had been seen (labels may come first)",
    ["stream", "outcome", "reason", "record_seen"],
)
ALERTS = Counter(
    "driftloop_ingestion_bad_rate_alerts_total", "BadRecordRateExceeded alerts", ["stream"]
)


def count_records(tally: Tally[tuple[str, str, str]]) -> None:
    """Add a batch's ``(stream, outcome, reason) -> n`` to the counters."""
    for (stream, outcome, reason), n in tally.items():
        RECORDS.labels(stream, outcome, reason).inc(n)


def count_labels(tally: Tally[tuple[str, str, str, str]]) -> None:
    for key, n in tally.items():
        LABELS.labels(*key).inc(n)
