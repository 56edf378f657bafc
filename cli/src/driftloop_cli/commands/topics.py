"""``driftloop topics ensure``: create the platform's topics on an existing
Kafka before the services start (a Kubernetes Job, compose's one-shot service),
since production brokers should not auto-create topics."""

from __future__ import annotations

import asyncio

import typer

from driftloop_cli import discovery
from driftloop_cli.ui import fail

topics_app = typer.Typer(help="The platform's Kafka topics.", no_args_is_help=True)


@topics_app.command("ensure")
def ensure() -> None:
    """Create every driftloop topic that is missing on DRIFTLOOP_KAFKA_BOOTSTRAP,
    with DRIFTLOOP_KAFKA_PARTITIONS partitions, DRIFTLOOP_KAFKA_REPLICATION_FACTOR
    replicas and DRIFTLOOP_KAFKA_RETENTION_MS retention. Topics that exist are
    left as they are, so it is safe to run again. Exit 1 when Kafka cannot be
    reached or refuses a topic, 2 on bad settings."""
    from aiokafka.errors import KafkaError

    from driftloop.platform.embedded import BrokerError, ensure_topics
    from driftloop.platform.topics import ALL

    settings = discovery.settings(None).kafka
    try:
        created = asyncio.run(ensure_topics(settings))
    except (KafkaError, BrokerError, OSError) as exc:
        fail(f"topics not ensured on {settings.servers}: {exc}")
    print(
        f"{len(created)} topic(s) created, {len(ALL) - len(created)} already there "
        f"({settings.servers}, {settings.partitions} partitions, "
        f"replication {settings.replication_factor})"
    )
    for name in created:
        print(f"created {name}")
