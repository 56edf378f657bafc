"""Schema evolution and the stream catalog."""

from __future__ import annotations

import pytest

from driftloop.platform.errors import NotFound
from driftloop.platform.spec import StreamSpec
from driftloop_ingestion.adapters.sqlite_store import MemorySchemaStore, SqliteSchemaStore
from driftloop_ingestion.domain.compat import Change, compare
from driftloop_ingestion.service.catalog import StreamCatalog

BASE = {"name": "s", "entity_field": "e", "fields": [{"name": "e", "type": "string"}]}


def spec(*extra: dict, **changes: object) -> StreamSpec:
    data = {**BASE, **changes}
    data["fields"] = [*BASE["fields"], *extra]
    return StreamSpec.model_validate(data)


def test_compare_tells_same_compatible_and_breaking() -> None:
    opt = {"name": "x", "type": "float", "required": False}
    assert compare(spec(), spec(version=7)) is Change.SAME
    assert compare(spec(), spec(opt)) is Change.COMPATIBLE
    assert compare(spec(), spec({**opt, "required": True})) is Change.BREAKING
    assert compare(spec(opt), spec()) is Change.BREAKING  # a field removed
    assert compare(spec(opt), spec({**opt, "max": 1.0})) is Change.BREAKING
    assert compare(spec(), spec(id_field="key")) is Change.BREAKING
    assert compare(spec(), spec(label={"type": "bool"})) is Change.BREAKING


def test_catalog_numbers_versions_and_keeps_old_ones() -> None:
    catalog = StreamCatalog(MemorySchemaStore())
    assert catalog.register(spec(version=5)) == (spec(version=1), True)
    assert catalog.register(spec()) == (spec(version=1), False)
    opt = {"name": "x", "type": "float", "required": False}
    stored, new = catalog.register(spec(opt))
    assert (stored.version, new) == (1, False) and stored.field("x") is not None
    stored, new = catalog.register(spec({"name": "y", "type": "int"}))
    assert (stored.version, new) == (2, True)
    assert catalog.get("s").version == 2
    assert catalog.get("s", 1).field("x") is not None
    assert catalog.validator("s").version == 2
    with pytest.raises(NotFound, match="no version 3"):
        catalog.get("s", 3)
    with pytest.raises(NotFound, match="'t' is not registered"):
        catalog.get("t")


def test_versions_survive_a_restart_in_sqlite(tmp_path) -> None:
    catalog = StreamCatalog(SqliteSchemaStore(tmp_path / "s.sqlite"))
    catalog.register(spec())
    catalog.register(spec({"name": "y", "type": "int"}))
    again = StreamCatalog(SqliteSchemaStore(tmp_path / "s.sqlite"))
    again.load()
    assert [s.version for s in again.list()] == [2]
    assert again.get("s", 1) == spec(version=1)
    assert again.validator("s").version == 2


def test_default_stream_is_configured_or_the_only_one() -> None:
    catalog = StreamCatalog(MemorySchemaStore())
    assert catalog.default_stream("") == ""
    catalog.register(spec())
    assert catalog.default_stream("") == "s"
    assert catalog.default_stream("other") == "other"
    catalog.register(spec(name="t"))
    assert catalog.default_stream("") == ""
