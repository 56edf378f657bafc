"""Model lifecycle: follow alias changes, fetch and verify
artifacts, load and warm them off the event loop, and only then switch
traffic (load before unload). A version that fails any step is reported and
never serves; the version serving before keeps serving.

Only an ``AliasChanged`` newer than the one applied (by the registry's
alias-history sequence) unloads: an older or redelivered one is ignored, and
a registry answer that lacks a model or alias serving has loaded (a registry
restarted on an empty disk, a wrong database) is a fault — logged, counted,
published as an alert — never an instruction to unload."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Protocol

import structlog
from prometheus_client import Counter

from driftloop.platform.errors import Unavailable
from driftloop_serving.domain.models import Catalog, Loaded, Runner, VersionInfo
from driftloop_serving.domain.routing import Role

log = structlog.get_logger(__name__)

SERVED_ALIASES = ("champion", "candidate")

REGISTRY_FAULTS = Counter(
    "driftloop_serving_registry_faults_total",
    "Registry answers that lacked a model or alias serving has loaded (kept serving)",
    ["model", "alias"],
)
STALE_EVENTS = Counter(
    "driftloop_serving_stale_alias_events_total",
    "AliasChanged events ignored as not newer than the one applied",
    ["model", "alias"],
)


@dataclass(frozen=True)
class Artifact:
    data: bytes
    sha256: str  # what the registry says the bytes hash to


class Registry(Protocol):
    """The registry as serving needs it."""

    async def download(self, model: str, version: int) -> Artifact: ...

    async def describe(self, model: str, version: int) -> VersionInfo: ...

    async def aliases(self) -> dict[str, dict[str, VersionInfo]]:
        """Every model's champion and candidate now (raises Unavailable)."""
        ...


class Loader(Protocol):
    def load(self, data: bytes) -> Runner: ...


class LifecycleEvents(Protocol):
    async def loaded(self, info: VersionInfo, role: Role, load_ms: float) -> None: ...

    async def failed(self, info: VersionInfo, reason: str) -> None: ...

    async def registry_fault(self, info: VersionInfo, alias: str, reason: str) -> None:
        """The registry's answer lacked ``info`` under ``alias``; it keeps serving."""


class LoadFailed(Exception):
    """A version cannot serve; the message is the reason."""


class Lifecycle:
    """Applies alias changes to the catalog, one model at a time."""

    def __init__(
        self, catalog: Catalog, registry: Registry, loader: Loader, events: LifecycleEvents
    ) -> None:
        self.catalog = catalog
        self.registry = registry
        self.loader = loader
        self.events = events
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        #: Bumped by every applied event, so a slower reconcile never undoes one.
        self._generation: dict[str, int] = defaultdict(int)
        #: Whether the last registry answer's champions were all loaded after
        #: it: serving's readiness (False until the first answer).
        self.ready = False
        #: The registry's alias-history sequence of the newest applied event.
        self._sequence: dict[tuple[str, str], int] = defaultdict(int)

    async def alias_changed(
        self,
        model: str,
        alias: str,
        version: int,
        info: VersionInfo | None = None,
        sequence: int = 0,
    ) -> None:
        """An alias was set (version > 0) or deleted (version 0) as the
        registry's change number ``sequence`` (0: unknown, always applied)."""
        if alias not in SERVED_ALIASES:
            return
        async with self._locks[model]:
            applied = self._sequence[model, alias]
            if sequence and sequence <= applied:
                STALE_EVENTS.labels(model, alias).inc()
                log.info(
                    "alias.stale_event_ignored",
                    model=model,
                    alias=alias,
                    version=version,
                    sequence=sequence,
                    applied_sequence=applied,
                )
                return
            self._generation[model] += 1
            self._sequence[model, alias] = max(applied, sequence)
            await self._apply(model, alias, version, info)

    async def reconcile(self) -> None:
        """Make the catalog match the registry's aliases (at start, and now and
        then in case an event was missed), and update :attr:`ready`. Raises
        Unavailable if the registry is."""
        started = dict(self._generation)
        current = await self.registry.aliases()
        names = set(current) | {m.name for m in self.catalog}
        for model in sorted(names):
            async with self._locks[model]:
                if self._generation[model] != started.get(model, 0):
                    continue  # an event got here first and is newer
                for alias in SERVED_ALIASES:
                    info = current.get(model, {}).get(alias)
                    if info is not None:
                        await self._apply(model, alias, info.version, info)
                    else:
                        await self._lacking(model, alias)
        self.ready = all(
            (served := self.catalog.get(model)) is not None
            and served.champion is not None
            and served.champion.version == aliases["champion"].version
            for model, aliases in current.items()
            if "champion" in aliases
        )

    async def _lacking(self, model: str, alias: str) -> None:
        """The registry named no version for ``alias``: a fault if serving
        has one loaded (only an AliasChanged unloads), nothing otherwise."""
        served = self.catalog.ensure(model)
        loaded = served.champion if alias == "champion" else served.candidate
        if loaded is None:
            return
        reason = f"the registry names no {alias} of {model!r}; v{loaded.version} keeps serving"
        REGISTRY_FAULTS.labels(model, alias).inc()
        log.warning(
            "registry.answer_lacks_loaded_model",
            model=model,
            alias=alias,
            version=loaded.version,
            reason=reason,
        )
        await self.events.registry_fault(loaded.info, alias, reason)

    async def reconcile_until_done(self, retry_s: float) -> None:
        """:meth:`reconcile`, retried while the registry is unavailable (all
        services start together, so it may not be up yet)."""
        while True:
            try:
                await self.reconcile()
                return
            except Unavailable as exc:
                log.info("registry.unavailable", retry_in_s=retry_s, error=str(exc))
                await asyncio.sleep(retry_s)
            except Exception as exc:
                # e.g. an alias pointing at a version the registry cannot describe:
                # keep serving what loaded and try again, never give up silently.
                log.warning("registry.reconcile_failed", retry_in_s=retry_s, error=repr(exc))
                await asyncio.sleep(retry_s)

    async def _apply(self, model: str, alias: str, version: int, info: VersionInfo | None) -> None:
        served = self.catalog.ensure(model)
        current = served.champion if alias == "champion" else served.candidate
        if version == 0:
            if current is not None:
                served.drop(alias)
                log.info("alias.dropped", model=model, alias=alias, version=current.version)
            return
        if current is not None and current.version == version:
            return  # already serving it: redelivered event or reconcile
        found = served.by_version(version)
        loaded: Loaded | None
        if found is not None:
            loaded = found[0]  # e.g. promotion: the candidate is already loaded
        else:
            loaded = await self._load(model, version, info, Role(alias))
            if loaded is None:
                return
        if alias == "champion":
            served.set_champion(loaded)
        else:
            served.set_candidate(loaded)
        log.info("alias.switched", model=model, alias=alias, version=version)

    async def _load(
        self, model: str, version: int, info: VersionInfo | None, role: Role
    ) -> Loaded | None:
        served = self.catalog.ensure(model)
        served.loading.add(version)
        started = time.perf_counter()
        try:
            if info is None or not info.sha256:
                info = await self.registry.describe(model, version)
            artifact = await self.registry.download(model, version)
            _verify(info, artifact)
            runner = await asyncio.to_thread(self.loader.load, artifact.data)
        except Unavailable:
            raise  # the registry is down: retry the event, do not give up on it
        except Exception as exc:
            reason = str(exc) if isinstance(exc, LoadFailed) else f"cannot load: {exc!r}"
            info = info or VersionInfo(model, version)
            log.warning("model.load_failed", model=model, version=version, reason=reason)
            await self.events.failed(info, reason)
            return None
        finally:
            served.loading.discard(version)
        load_ms = (time.perf_counter() - started) * 1000.0
        log.info("model.loaded", model=model, version=version, role=role.value, load_ms=load_ms)
        await self.events.loaded(info, role, load_ms)
        return Loaded(info, runner)


def _verify(info: VersionInfo, artifact: Artifact) -> None:
    actual = hashlib.sha256(artifact.data).hexdigest()
    if not (artifact.sha256 or info.sha256):
        raise LoadFailed("no sha256 to verify the artifact against")
    for claimed, where in ((artifact.sha256, "download"), (info.sha256, "registry metadata")):
        if claimed and claimed != actual:
            raise LoadFailed(
                f"sha256 mismatch: artifact hashes to {actual}, {where} says {claimed}"
            )
    if info.size and info.size != len(artifact.data):
        raise LoadFailed(f"size mismatch: got {len(artifact.data)} bytes, expected {info.size}")
