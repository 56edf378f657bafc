"""Composition root of the training service: builds settings, adapters and use
cases, and runs them in one lifecycle."""

from __future__ import annotations

from driftloop.platform.runtime import ServiceRuntime, run_main
from driftloop.platform.settings import load_settings

from driftloop_training.settings import TrainingSettings


def build() -> ServiceRuntime:
    settings = load_settings(TrainingSettings)
    runtime = ServiceRuntime("training", settings)
    return runtime


def main() -> None:
    run_main(build)
