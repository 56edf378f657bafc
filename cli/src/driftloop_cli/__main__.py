"""`python -m driftloop_cli` is the `driftloop` command."""

from driftloop_cli.app import main

if __name__ == "__main__":
    main()
