"""The driftloop command-line interface."""
