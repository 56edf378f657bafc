"""Two registry replicas (separate repositories and connection pools on one
database) racing from threads: numbering and compare-and-set stay exact."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from driftloop.platform.errors import Conflict
from driftloop_registry.adapters.sql_repository import SqlRepository
from driftloop_registry.domain.model import AliasWrite, Signature, VersionDraft
from driftloop_registry.service.ports import Cause

_POOL = ThreadPoolExecutor(8, thread_name_prefix="replica")


def _in_thread(fn, *args):
    # Each racer runs in its own thread with its own event loop.
    return asyncio.get_running_loop().run_in_executor(_POOL, lambda: asyncio.run(fn(*args)))


async def test_replicas_racing_number_versions_and_win_compare_and_set_exactly_once(database):
    first, second = SqlRepository(database()), SqlRepository(database())
    await first.migrate()
    await second.migrate()  # a second migrate is a no-op
    barrier = threading.Barrier(8, timeout=30)

    async def register(repo: SqlRepository) -> int:
        barrier.wait()
        v = await repo.add_version(VersionDraft("m"), "0" * 64, 1, Signature())
        return v.version

    numbers = await asyncio.gather(
        *(_in_thread(register, (first, second)[i % 2]) for i in range(8))
    )
    assert sorted(numbers) == list(range(1, 9))

    cas_barrier = threading.Barrier(8, timeout=30)

    async def move(repo: SqlRepository, target: int) -> str:
        cas_barrier.wait()
        try:
            await repo.change_aliases(
                "m", [AliasWrite("champion", target, expected=0)], Cause(reason="race")
            )
        except Conflict:
            return "lost"
        return "won"

    outcomes = await asyncio.gather(
        *(_in_thread(move, (first, second)[i % 2], i + 1) for i in range(8))
    )
    assert sorted(outcomes) == ["lost"] * 7 + ["won"]
    history = await first.alias_history("m", "champion")
    assert len(history) == 1
    events = await first.pending_events(100)
    assert len(events) == 8 + 1  # 8 registrations, 1 alias change
    await first.close()
    await second.close()
