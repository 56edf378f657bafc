"""Timestamps as producers send them: ISO-8601 strings or epoch seconds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def parse_timestamp(value: Any) -> datetime:
    """An aware UTC datetime from an ISO-8601 string (naive means UTC), epoch
    seconds, or a datetime. Raises ``ValueError`` when it is none of those.

    >>> parse_timestamp("2024-05-01T12:00:00Z").isoformat()
    '2024-05-01T12:00:00+00:00'
    >>> parse_timestamp(0).year
    1970
    """
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    kind = type(value)
    if kind is int or kind is float:
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ValueError(f"epoch seconds {value!r} out of range") from exc
    if kind is str:
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise TypeError(f"expected an ISO-8601 string or epoch seconds, got {kind.__name__}")
