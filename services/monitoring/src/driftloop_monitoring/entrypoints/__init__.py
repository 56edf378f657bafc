"""Thin adapters: Kafka subscribers, the event publisher, the gRPC servicer and
the one converters module between protobuf and the domain."""
