"""`python -m driftloop_ingestion` runs the ingestion service."""

from driftloop.platform.startup import imports_without_gc

with imports_without_gc():
    from driftloop_ingestion.main import main

if __name__ == "__main__":
    main()
