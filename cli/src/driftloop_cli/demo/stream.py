"""The demo's synthetic stream: loan applications from river's Agrawal
generator, whose labelling concept changes at a chosen point. The same
stream of river's STAGGER shapes (``generator="stagger"``: fields size,
color, shape as categories "0".."2"; concept 0 → 2 moves the positive share
from 11 % to 67 %) drives the loop with a user's own spec.

>>> s = DriftingStream(drift="abrupt", drift_at=3, seed=1, perturbation=0.0)
>>> [r.concept for r in s.take(5)]
[0, 0, 0, 2, 2]
>>> sorted(next(DriftingStream(generator="stagger").take(1)).fields)
['color', 'customer_id', 'shape', 'size']
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from river.datasets import synth

DriftKind = Literal["abrupt", "gradual", "recurring", "none"]
Generator = Literal["agrawal", "stagger"]

#: Agrawal concepts before and after the change: both learnable, and a model
#: of one is close to a coin flip on the other.
BEFORE, AFTER = 0, 2


@dataclass(frozen=True)
class DemoRecord:
    index: int
    record_id: str
    customer_id: str
    fields: dict[str, Any]
    label: int
    #: Which concept labelled it (BEFORE or AFTER).
    concept: int


class DriftingStream:
    """Records with labels; the concept changes at ``drift_at`` (abrupt), over
    ``width`` records around it (gradual), or changes and comes back
    (recurring: back to the first concept at ``2 * drift_at``)."""

    def __init__(
        self,
        *,
        drift: DriftKind = "abrupt",
        drift_at: int = 10_000,
        width: int = 1_000,
        seed: int = 42,
        customers: int = 200,
        perturbation: float = 0.05,
        run_id: str = "demo",
        generator: Generator = "agrawal",
    ) -> None:
        self.drift = drift
        self.drift_at = drift_at
        self.width = width
        self.customers = customers
        self.run_id = run_id
        self._rng = random.Random(seed)
        self._fields = _loan if generator == "agrawal" else _shape
        self._gens = {
            c: iter(
                synth.Agrawal(classification_function=c, seed=seed + c, perturbation=perturbation)
                if generator == "agrawal"
                else synth.STAGGER(classification_function=c, seed=seed + c)
            )
            for c in (BEFORE, AFTER)
        }

    def concept_at(self, index: int) -> int:
        if self.drift == "none" or index < self.drift_at - (
            self.width // 2 if self.drift == "gradual" else 0
        ):
            return BEFORE
        if self.drift == "gradual" and index < self.drift_at + self.width // 2:
            # Mixed: the share of the new concept rises linearly over the width.
            share = (index - (self.drift_at - self.width // 2)) / self.width
            return AFTER if self._rng.random() < share else BEFORE
        if self.drift == "recurring" and index >= 2 * self.drift_at:
            return BEFORE
        return AFTER

    def take(self, n: int | None = None) -> Iterator[DemoRecord]:
        index = 0
        while n is None or index < n:
            concept = self.concept_at(index)
            x, y = next(self._gens[concept])
            customer = f"c{self._rng.randrange(self.customers)}"
            fields = {"customer_id": customer, **self._fields(x)}
            yield DemoRecord(index, f"{self.run_id}-{index}", customer, fields, int(y), concept)
            index += 1


def _loan(x: dict[str, Any]) -> dict[str, Any]:
    return {
        "salary": float(x["salary"]),
        "commission": float(x["commission"]),
        "age": int(x["age"]),
        "elevel": str(x["elevel"]),
        "car": int(x["car"]),
        "zipcode": str(x["zipcode"]),
        "hvalue": float(x["hvalue"]),
        "hyears": int(x["hyears"]),
        "loan": float(x["loan"]),
    }


def _shape(x: dict[str, Any]) -> dict[str, Any]:
    return {"size": str(x["size"]), "color": str(x["color"]), "shape": str(x["shape"])}
