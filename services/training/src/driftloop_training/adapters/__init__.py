"""Outbound adapters: the SQLite store, the registry client, the event
publisher, the trainers and their worker."""
