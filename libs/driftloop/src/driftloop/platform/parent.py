"""A service started by ``driftloop up`` ends with it, even when the
supervisor was killed outright (kill -9 leaves no one to stop the children).

The supervisor passes its pid in ``DRIFTLOOP_PARENT_PID``; the service asks
Linux for SIGTERM when its parent dies (``PR_SET_PDEATHSIG``), and stops at
once if the parent is already gone. This runs in the service, not in a
``preexec_fn`` between fork and exec: that is unsafe in a supervisor with
threads (gRPC's), and was seen to crash the forked child.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal

PARENT_PID = "DRIFTLOOP_PARENT_PID"
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """SIGTERM to this process when the parent named in the environment dies."""
    parent = os.environ.get(PARENT_PID, "")
    if not parent.isdigit():
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != int(parent):  # it died before the request above
        os.kill(os.getpid(), signal.SIGTERM)
