"""The stream catalog: registered schemas, their versions, and their compiled
validators. Records are always validated by a stream's newest version."""

from __future__ import annotations

import structlog

from driftloop.platform.errors import NotFound
from driftloop.platform.spec import StreamSpec
from driftloop_ingestion.domain.compat import Change, compare
from driftloop_ingestion.domain.validator import Validator, compile_schema
from driftloop_ingestion.service.ports import SchemaStore

log = structlog.get_logger(__name__)


class StreamCatalog:
    """Stream versions, loaded from a store and extended by :meth:`register`."""

    def __init__(
        self, store: SchemaStore, *, max_string_length: int = 4096, max_id_length: int = 256
    ) -> None:
        self._store = store
        self._limits = (max_string_length, max_id_length)
        self._versions: dict[str, dict[int, StreamSpec]] = {}
        self._validators: dict[str, Validator] = {}

    def load(self) -> None:
        """Read every stored version (call once at start)."""
        for spec in self._store.load():
            self._put(spec)

    def _put(self, spec: StreamSpec) -> None:
        self._versions.setdefault(spec.name, {})[spec.version] = spec
        if spec.version == max(self._versions[spec.name]):
            self._validators[spec.name] = compile_schema(spec, *self._limits)

    def register(self, spec: StreamSpec) -> tuple[StreamSpec, bool]:
        """Declare a stream. Same or compatible with the newest version: that
        version (updated in place when compatible). Otherwise a new version.
        The declared ``version`` is ignored: the catalog numbers versions.
        Returns the stored schema and whether it is a new version."""
        current = self.get(spec.name) if spec.name in self._versions else None
        if current is None:
            stored, is_new = spec.model_copy(update={"version": 1}), True
        else:
            change = compare(current, spec)
            if change is Change.SAME:
                return current, False
            is_new = change is Change.BREAKING
            version = current.version + 1 if is_new else current.version
            stored = spec.model_copy(update={"version": version})
        self._store.save(stored)
        self._put(stored)
        log.info("stream.registered", stream=stored.name, version=stored.version, new=is_new)
        return stored, is_new

    def get(self, name: str, version: int = 0) -> StreamSpec:
        """A stream's schema: ``version`` 0 means the newest."""
        versions = self._versions.get(name)
        if not versions:
            raise NotFound(f"stream {name!r} is not registered")
        if version == 0:
            return versions[max(versions)]
        if version not in versions:
            raise NotFound(f"stream {name!r} has no version {version}")
        return versions[version]

    def list(self) -> list[StreamSpec]:
        """The newest version of every stream, by name."""
        return [self.get(name) for name in sorted(self._versions)]

    def validator(self, name: str) -> Validator | None:
        """The compiled newest version of ``name``, or None for an unknown stream."""
        return self._validators.get(name)

    def default_stream(self, configured: str) -> str:
        """The stream for records that name none: ``configured``, else the only one."""
        if configured:
            return configured
        return next(iter(self._versions)) if len(self._versions) == 1 else ""
