"""Pure monitoring logic: the label join, quality windows, drift detectors and
tests, the drift debouncer and the canary judge. Nothing here knows Kafka,
gRPC, SQL or generated code."""
