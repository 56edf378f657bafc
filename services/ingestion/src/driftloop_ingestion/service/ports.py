"""What the use cases need from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from driftloop.platform.spec import StreamSpec
from driftloop_ingestion.domain.records import BadRateAlert, DeadLetter, ValidLabel, ValidRecord

Outgoing = ValidRecord | DeadLetter | ValidLabel | BadRateAlert


class Publisher(Protocol):
    async def publish(self, items: Sequence[Outgoing]) -> None:
        """Publish every item and return only once the broker acknowledged all."""


class SchemaStore(Protocol):
    def load(self) -> list[StreamSpec]:
        """Every stored stream version, oldest first."""

    def save(self, spec: StreamSpec) -> None:
        """Insert or replace ``(spec.name, spec.version)``."""
