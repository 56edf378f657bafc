"""`python -m driftloop_registry` runs the registry service."""

from driftloop.platform.startup import imports_without_gc

with imports_without_gc():
    from driftloop_registry.main import main

if __name__ == "__main__":
    main()
