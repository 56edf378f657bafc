"""`python -m driftloop_feature` runs the feature service."""

from driftloop.platform.startup import imports_without_gc

with imports_without_gc():
    from driftloop_feature.main import main

if __name__ == "__main__":
    main()
