"""Adapters: the SQLite state store, the Prometheus metrics, the event
publisher and the registry client."""
