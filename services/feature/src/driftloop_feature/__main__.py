"""`python -m driftloop_feature` runs the feature service."""

from driftloop_feature.main import main

if __name__ == "__main__":
    main()
