"""Schema evolution: is a new declaration of a stream the same schema, a
compatible extension (only optional fields added), or a breaking change?"""

from __future__ import annotations

from enum import Enum

from driftloop.platform.spec import StreamSpec


class Change(Enum):
    SAME = "same"
    COMPATIBLE = "compatible"
    BREAKING = "breaking"


def compare(old: StreamSpec, new: StreamSpec) -> Change:
    """How ``new`` relates to ``old`` (the declared ``version`` is ignored).

    Compatible means every record valid under ``old`` is valid under ``new``
    and keeps its meaning: the same id, entity, time and label, every old
    field unchanged, and only optional fields added.
    """
    if (old.id_field, old.entity_field, old.event_time_field, old.label) != (
        new.id_field,
        new.entity_field,
        new.event_time_field,
        new.label,
    ):
        return Change.BREAKING
    old_fields = {f.name: f for f in old.fields}
    new_fields = {f.name: f for f in new.fields}
    if any(new_fields.get(name) != f for name, f in old_fields.items()):
        return Change.BREAKING
    added = [f for name, f in new_fields.items() if name not in old_fields]
    if not added:
        return Change.SAME
    if any(f.required for f in added):
        return Change.BREAKING
    return Change.COMPATIBLE
