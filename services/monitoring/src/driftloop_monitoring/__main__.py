"""`python -m driftloop_monitoring` runs the monitoring service."""

from driftloop_monitoring.main import main

if __name__ == "__main__":
    main()
