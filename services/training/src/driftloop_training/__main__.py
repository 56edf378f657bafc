"""`python -m driftloop_training` runs the training service."""

from driftloop_training.main import main

if __name__ == "__main__":
    main()
