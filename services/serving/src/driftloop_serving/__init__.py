"""driftloop serving service."""
