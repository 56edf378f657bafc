"""driftloop training service."""
