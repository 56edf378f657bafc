"""What a use case needs of leases (``driftloop.platform.leases`` is the SQL
adapter): a lease and the port that takes, keeps and hands it over.

Kept apart from the adapter so that use cases depend on no database driver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Lease:
    """A key held by ``holder`` since its ``epoch``-th change of hands, with
    the document the holders leave for each other."""

    key: str
    epoch: int
    data: dict[str, Any] = field(default_factory=dict)
    previous_holder: str = ""
    holder: str = ""
    live: bool = True


class LeaseStore(Protocol):
    """The leases of one scope as seen by one replica."""

    ttl_s: float

    def take(self, key: str) -> Lease | None:
        """Hold ``key`` for ``ttl_s`` (take or renew), or None when another
        live replica holds it."""
        ...

    def peek(self, key: str) -> Lease | None:
        """The lease as it stands, without taking it."""
        ...

    def put(self, key: str, data: dict[str, Any]) -> bool:
        """Replace the lease's document; False when no longer held."""
        ...

    def release(self, key: str, data: dict[str, Any] | None = None) -> bool:
        """Give ``key`` up now, leaving ``data`` for the next holder."""
        ...

    def holders(self) -> dict[str, str]:
        """Key → live holder for every unexpired lease."""
        ...

    def close(self) -> None: ...
