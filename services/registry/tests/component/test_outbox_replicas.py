"""Two registry replicas' outbox relays (separate connection pools on one
database, each in its own thread and event loop) drain while a third writer
keeps committing: every event is published exactly once, and each relay's
share keeps commit order."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from driftloop_registry.adapters.sql_repository import SqlRepository
from driftloop_registry.domain.model import Signature, VersionDraft
from driftloop_registry.service.outbox import OutboxRelay
from driftloop_registry.service.ports import PendingEvent

VERSIONS = 60


class SlowSink:
    """Publishing takes a moment, so the two relays' drains overlap."""

    def __init__(self) -> None:
        self.events: list[PendingEvent] = []

    async def publish(self, events) -> None:
        await asyncio.sleep(0.005)
        self.events.extend(events)


async def test_two_relays_publish_every_event_exactly_once(database):
    writer = SqlRepository(database())
    await writer.migrate()
    relays = [OutboxRelay(SqlRepository(database()), SlowSink(), batch=5) for _ in range(2)]
    done = threading.Event()

    def drain_until_done(relay: OutboxRelay) -> None:
        async def loop() -> None:
            while not done.is_set():
                if not await relay.drain():
                    await asyncio.sleep(0.01)  # nothing pending, or the other relay holds the claim
            await relay.drain()
            await relay.repo.close()

        asyncio.run(loop())

    with ThreadPoolExecutor(2) as pool:
        running = [pool.submit(drain_until_done, r) for r in relays]
        for i in range(VERSIONS):
            await writer.add_version(VersionDraft(f"m{i % 3}"), "0" * 64, 1, Signature())
        done.set()
        for r in running:
            r.result(timeout=120)

    shares = [r.sink.events for r in relays]
    published = [e.event_id for share in shares for e in share]
    committed = await writer._run(
        lambda cur: [r[0] for r in cur.execute("SELECT event_id FROM outbox").all()], write=False
    )
    assert len(published) == len(set(published)) == VERSIONS
    assert sorted(published) == sorted(committed)
    for share in shares:
        ids = [e.id for e in share]
        assert ids == sorted(ids)
    assert await writer.pending_events(10) == []
    await writer.close()
