"""How a rollout decision moves aliases: promote makes the candidate champion
and archives the old champion; rollback drops the candidate."""

from __future__ import annotations

from dataclasses import dataclass

from driftloop_registry.domain.model import ARCHIVED, CANDIDATE, CHAMPION, AliasWrite

ROLLED_BACK_TAG = "rolled_back"


@dataclass(frozen=True)
class RolloutDecision:
    model: str
    promote: bool
    champion_version: int
    candidate_version: int
    reason: str
    event_id: str
    correlation_id: str = ""


def alias_writes(decision: RolloutDecision, current: dict[str, int]) -> list[AliasWrite]:
    """The alias writes that carry out ``decision``, as compare-and-sets against
    the versions the decision was made on, so a stale decision loses.

    >>> d = RolloutDecision("m", True, 1, 2, "better", "e1")
    >>> alias_writes(d, {"champion": 1, "candidate": 2})  # doctest: +NORMALIZE_WHITESPACE
    [AliasWrite(alias='champion', version=2, expected=1),
     AliasWrite(alias='archived', version=1, expected=None),
     AliasWrite(alias='candidate', version=0, expected=2)]
    """
    candidate_here = current.get(CANDIDATE) == decision.candidate_version
    writes: list[AliasWrite] = []
    if decision.promote:
        writes.append(
            AliasWrite(CHAMPION, decision.candidate_version, expected=decision.champion_version)
        )
        if decision.champion_version:
            writes.append(AliasWrite(ARCHIVED, decision.champion_version))
    if candidate_here:
        writes.append(AliasWrite(CANDIDATE, 0, expected=decision.candidate_version))
    return writes
