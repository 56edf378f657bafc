"""Outbound adapters: the SQLite store, the registry client, the trainers and their worker."""
