"""Who answers a request: the champion, or the candidate for its share of
traffic (canary), or the champion with a mirrored copy to the candidate
(shadow). The choice is sticky: a key always falls in the same bucket, and a
bucket below the share goes to the candidate, so raising the share only ever
moves keys from champion to candidate."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass


class Role(enum.Enum):
    CHAMPION = "champion"
    CANDIDATE = "candidate"
    SHADOW = "shadow"


class Mode(enum.Enum):
    CANARY = "canary"
    SHADOW = "shadow"


def bucket(key: str) -> float:
    """A stable number in [0, 1) for a routing key."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


@dataclass(frozen=True)
class TrafficSplit:
    """The candidate's share and mode; ``pinned`` by ops until cleared."""

    share: float = 0.0
    mode: Mode = Mode.CANARY
    pinned: bool = False
    rollout_id: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= self.share <= 1.0:
            raise ValueError(f"candidate share {self.share} is not in [0, 1]")

    def routes_to_candidate(self, key: str) -> bool:
        """Whether the candidate answers the request with this key (canary)."""
        if self.mode is not Mode.CANARY or self.share <= 0.0:
            return False
        if self.share >= 1.0:
            return True
        return bucket(key) < self.share

    @property
    def mirrors(self) -> bool:
        """Whether every request is also sent to the candidate (shadow)."""
        return self.mode is Mode.SHADOW
