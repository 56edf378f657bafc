"""Composition root of the ingestion service: builds settings, adapters and use
cases, and runs them in one lifecycle."""

from __future__ import annotations

from driftloop.platform.runtime import ServiceRuntime, run_main
from driftloop.platform.settings import load_settings

from driftloop_ingestion.settings import IngestionSettings


def build() -> ServiceRuntime:
    settings = load_settings(IngestionSettings)
    runtime = ServiceRuntime("ingestion", settings)
    return runtime


def main() -> None:
    run_main(build)
