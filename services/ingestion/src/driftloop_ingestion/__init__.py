"""driftloop ingestion service."""
