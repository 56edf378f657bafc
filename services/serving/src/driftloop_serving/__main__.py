"""`python -m driftloop_serving` runs the serving service."""

from driftloop.platform.startup import imports_without_gc

with imports_without_gc():
    from driftloop_serving.main import main

if __name__ == "__main__":
    main()
