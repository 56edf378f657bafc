"""``driftloop topics ensure``: create the platform's topics on an existing
Kafka before the services start (a Kubernetes Job, compose's one-shot service),
since production brokers should not auto-create topics."""

from __future__ import annotations

import asyncio

import typer
from aiokafka.errors import KafkaError
from rich.console import Console

from driftloop.platform.embedded import BrokerError, ensure_topics
from driftloop.platform.settings import ServiceSettings, SettingsError, load_settings
from driftloop.platform.topics import ALL

topics_app = typer.Typer(help="The platform's Kafka topics.", no_args_is_help=True)
console = Console(stderr=True)


@topics_app.command("ensure")
def ensure() -> None:
    """Create every driftloop topic that is missing on DRIFTLOOP_KAFKA_BOOTSTRAP,
    with DRIFTLOOP_KAFKA_PARTITIONS partitions, DRIFTLOOP_KAFKA_REPLICATION_FACTOR
    replicas and DRIFTLOOP_KAFKA_RETENTION_MS retention. Topics that exist are
    left as they are, so it is safe to run again. Exit 1 when Kafka cannot be
    reached or refuses a topic, 2 on bad settings."""
    try:
        settings = load_settings(ServiceSettings).kafka
    except SettingsError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    try:
        created = asyncio.run(ensure_topics(settings))
    except (KafkaError, BrokerError, OSError) as exc:
        console.print(f"[red]topics not ensured on {settings.servers}: {exc}[/red]")
        raise typer.Exit(1) from None
    print(
        f"{len(created)} topic(s) created, {len(ALL) - len(created)} already there "
        f"({settings.servers}, {settings.partitions} partitions, "
        f"replication {settings.replication_factor})"
    )
    for name in created:
        print(f"created {name}")
