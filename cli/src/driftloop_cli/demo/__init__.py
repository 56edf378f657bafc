"""`driftloop demo`: a producer app, a prediction client and a labeller that
drive the platform through a drifting stream, and the report of what the
platform did about it."""
