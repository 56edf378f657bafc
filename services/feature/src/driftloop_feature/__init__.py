"""driftloop feature service."""
