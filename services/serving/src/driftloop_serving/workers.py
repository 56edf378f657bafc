"""``DRIFTLOOP_SERVING_WORKERS=N``: N serving processes on one gRPC port.

Each worker is an ordinary serving process (``python -m driftloop_serving``)
bound with SO_REUSEPORT, so the kernel spreads client connections over them.
They share nothing but the platform's topics: each has its own consumer
groups for model and rollout changes (every worker applies every change, so
all load the same versions and split traffic alike) and they share the
stream-scoring group (each vector is scored once). This process only
supervises: it forwards SIGTERM / SIGINT, and when one worker dies it stops
the others and exits non-zero so that the orchestrator restarts the set.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import structlog

from driftloop.platform.logging import configure_logging
from driftloop.platform.ports import SERVICES
from driftloop_serving.settings import ServingSettings

log = structlog.get_logger(__name__)

#: Worker k serves /metrics on the metrics port + METRICS_STRIDE * k.
METRICS_STRIDE = 10


def worker_env(settings: ServingSettings, k: int) -> dict[str, str]:
    """Environment overrides of worker ``k`` (0-based)."""
    info = SERVICES["serving"]
    metrics = settings.metrics.port or info.metrics_port + settings.port_offset
    instance = settings.instance
    return {
        "DRIFTLOOP_SERVING_WORKERS": "1",
        "DRIFTLOOP_GRPC_REUSE_PORT": "true",
        "DRIFTLOOP_GRPC_PORT": str(settings.grpc.port or info.grpc_port + settings.port_offset),
        "DRIFTLOOP_METRICS_PORT": str(metrics + METRICS_STRIDE * k),
        "DRIFTLOOP_INSTANCE_ID": f"{instance}-w{k}",
    }


def run_workers(settings: ServingSettings) -> int:
    """Run ``settings.serving_workers`` workers until a signal or a worker's
    exit; returns the exit code for this process."""
    configure_logging("serving", settings.log)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "driftloop_serving"],
            env={**os.environ, **worker_env(settings, k)},
        )
        for k in range(settings.serving_workers)
    ]
    log.info("workers.started", pids=[p.pid for p in procs])
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while all(p.poll() is None for p in procs):
        time.sleep(0.2)
    if not stopping:
        died = [(p.pid, p.returncode) for p in procs if p.returncode is not None]
        log.error("workers.worker_exited", exited=died)
        stop(signal.SIGTERM, None)
    codes = [p.wait() for p in procs]
    log.info("workers.stopped", codes=codes)
    return 0 if stopping and not any(codes) else 1
