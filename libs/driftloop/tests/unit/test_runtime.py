import asyncio
import sys

import pytest
import uvloop

from driftloop.platform.runtime import run_main
from driftloop.platform.settings import SettingsError


class LoopProbe:
    """Stands in for a service runtime: records the loop it was run on."""

    loops: list[type] = []

    async def run(self) -> None:
        self.loops.append(type(asyncio.get_running_loop()))


@pytest.mark.parametrize(
    ("choice", "uvloop_expected"), [("auto", True), ("uvloop", True), ("asyncio", False)]
)
def test_service_runs_on_the_event_loop_the_settings_choose(monkeypatch, choice, uvloop_expected):
    monkeypatch.setenv("DRIFTLOOP_EVENT_LOOP", choice)
    LoopProbe.loops = []
    run_main(LoopProbe)
    assert (LoopProbe.loops[0] is uvloop.Loop) == uvloop_expected


def test_without_uvloop_auto_falls_back_and_uvloop_fails_clearly(monkeypatch):
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import fails as if not installed
    monkeypatch.setenv("DRIFTLOOP_EVENT_LOOP", "auto")
    LoopProbe.loops = []
    run_main(LoopProbe)
    assert LoopProbe.loops[0] is not uvloop.Loop
    monkeypatch.setenv("DRIFTLOOP_EVENT_LOOP", "uvloop")
    with pytest.raises(SettingsError, match="uvloop is not installed"):
        run_main(LoopProbe)
