"""`python -m driftloop_serving` runs the serving service."""

from driftloop_serving.main import main

if __name__ == "__main__":
    main()
