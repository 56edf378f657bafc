"""Composition root of the registry service: builds settings, adapters and use
cases, and runs them in one lifecycle."""

from __future__ import annotations

from driftloop.platform.runtime import ServiceRuntime, run_main
from driftloop.platform.settings import load_settings

from driftloop_registry.settings import RegistrySettings


def build() -> ServiceRuntime:
    settings = load_settings(RegistrySettings)
    runtime = ServiceRuntime("registry", settings)
    return runtime


def main() -> None:
    run_main(build)
