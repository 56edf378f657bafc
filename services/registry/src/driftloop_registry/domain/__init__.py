"""Pure domain logic: no Kafka, gRPC, SQL or generated code."""
