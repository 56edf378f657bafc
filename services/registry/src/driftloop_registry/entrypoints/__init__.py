"""Inbound edge: Kafka subscribers and gRPC servicers (protobuf mapping is in codec/)."""
