"""Readiness beyond start-up: checks of what a service's job depends on (its
broker, database or online store), evaluated again and again while it runs,
so that a replica that lost one reports NOT_SERVING on ``driftloop.ready``
(and leaves traffic) until it is back. Liveness (health ``""``) never depends
on them: a lost dependency is no reason to restart the process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from aiokafka.client import AIOKafkaClient

from driftloop.platform.kafka_client import aiokafka_options
from driftloop.platform.settings import KafkaSettings

log = structlog.get_logger(__name__)

#: True when the dependency is there; False or an exception when it is not.
Check = Callable[[], Awaitable[bool]]


class KafkaProbe:
    """Whether the Kafka cluster answers: one metadata round trip per check,
    on one client kept open between checks."""

    def __init__(self, settings: KafkaSettings, timeout_s: float) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self._client: AIOKafkaClient | None = None

    async def __call__(self) -> bool:
        if self._client is None:
            client = AIOKafkaClient(
                **aiokafka_options(self.settings), request_timeout_ms=int(self.timeout_s * 1000)
            )
            try:
                await asyncio.wait_for(client.bootstrap(), self.timeout_s)
            except BaseException:
                await client.close()
                raise
            self._client = client
        await asyncio.wait_for(self._client.fetch_all_metadata(), self.timeout_s)
        return True

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


class Flag:
    """A check that passes once :meth:`set` (a step of start-up that runs in
    the background, e.g. recovering what a crash left)."""

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    async def __call__(self) -> bool:
        return self._set


async def passes(check: Check, timeout_s: float) -> bool:
    """The check's answer; False when it raises or takes longer than ``timeout_s``."""
    try:
        return bool(await asyncio.wait_for(check(), timeout_s))
    except Exception as exc:  # any driver's error: the dependency is not usable now
        log.debug("readiness.check_failed", error=repr(exc))
        return False


async def watch(
    checks: dict[str, Check],
    set_ready: Callable[[bool], Awaitable[None]],
    interval_s: float,
) -> None:
    """Until cancelled: every ``interval_s``, readiness := every check passes
    (each within ``interval_s``); each change is logged with what fails."""
    ready: bool | None = None
    while True:
        failing = [name for name, check in checks.items() if not await passes(check, interval_s)]
        now = not failing
        if now != ready:
            await set_ready(now)
            if now:
                log.info("readiness.ready", checks=sorted(checks))
            else:
                log.warning("readiness.not_ready", failing=failing)
            ready = now
        await asyncio.sleep(interval_s)
