"""`python -m driftloop_ingestion` runs the ingestion service."""

from driftloop_ingestion.main import main

if __name__ == "__main__":
    main()
