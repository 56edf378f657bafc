"""`python -m driftloop_monitoring` runs the monitoring service."""

from driftloop.platform.startup import imports_without_gc

with imports_without_gc():
    from driftloop_monitoring.main import main

if __name__ == "__main__":
    main()
