"""A training core wired to a fake registry on an in-process gRPC server and
the real trainer worker, with the real servicer on an in-process server."""

from __future__ import annotations

import pytest
from training_fakes import Harness


@pytest.fixture
async def harness(tmp_path):
    made: list[Harness] = []

    async def make(models: str, **settings) -> Harness:
        h = await Harness(tmp_path / f"h{len(made)}", models, **settings).start()
        made.append(h)
        return h

    yield make
    for h in made:
        await h.stop()
