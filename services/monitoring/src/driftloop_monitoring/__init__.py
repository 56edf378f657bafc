"""driftloop monitoring service."""
