"""Shared driftloop libraries and generated contracts."""
