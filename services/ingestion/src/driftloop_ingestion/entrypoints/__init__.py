"""Adapters at the edge: Kafka subscribers, gRPC servicers, converters."""
