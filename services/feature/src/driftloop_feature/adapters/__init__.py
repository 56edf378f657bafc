"""Adapters: the stores, checkpoints and Kafka clients behind the service ports."""
