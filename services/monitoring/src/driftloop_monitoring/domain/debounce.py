"""One change, one drift event: signals for a model within its cooldown are
folded into the event already sent."""

from __future__ import annotations

import uuid

_NS = uuid.UUID("6f1c2b52-58f4-4b8e-9d0a-2f1f4b8f0d11")


def drift_id(model: str, version: int, kind: str, started_position: int) -> str:
    """Stable id of one change: the same change re-detected after a restart
    (same model, version, kind and start) gets the same id.

    >>> drift_id("m", 1, "concept", 500) == drift_id("m", 1, "concept", 500)
    True
    """
    return uuid.uuid5(_NS, f"{model}/{version}/{kind}/{started_position}").hex


class Debouncer:
    """Cooldown per key (the monitor uses model and drift kind), on the time
    of the data (``at``, epoch seconds).

    >>> d = Debouncer()
    >>> [d.admit("m", t, cooldown_s=60) for t in (0, 10, 59, 61)]
    [True, False, False, True]
    """

    def __init__(self, last: dict[str, float] | None = None) -> None:
        self.last: dict[str, float] = dict(last or {})
        self.suppressed = 0

    def admit(self, model: str, at: float, *, cooldown_s: float) -> bool:
        prev = self.last.get(model)
        if prev is not None and at - prev < cooldown_s:
            self.suppressed += 1
            return False
        self.last[model] = at
        return True
