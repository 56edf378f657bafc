"""Whatever happens in a test, the feature processes it started are stopped."""

import pytest

from .support import STARTED


@pytest.fixture(autouse=True)
def _stop_feature_processes():
    yield
    while STARTED:
        proc = STARTED.pop()
        if proc.proc is not None and proc.proc.poll() is None:
            proc.kill()
