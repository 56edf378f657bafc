"""driftloop registry service."""
