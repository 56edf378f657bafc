"""Adapters: the SQLite state store and the Prometheus metrics."""
