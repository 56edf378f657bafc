"""`python -m driftloop_training` runs the training service."""

from driftloop.platform.startup import imports_without_gc

with imports_without_gc():
    from driftloop_training.main import main

if __name__ == "__main__":
    main()
