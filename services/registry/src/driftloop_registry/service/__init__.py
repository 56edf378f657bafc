"""Use cases: what the service does, with its ports passed in."""
