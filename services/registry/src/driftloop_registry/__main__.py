"""`python -m driftloop_registry` runs the registry service."""

from driftloop_registry.main import main

if __name__ == "__main__":
    main()
