"""Inbound edge: Kafka subscribers and the gRPC servicer (protobuf mapping is in
codec/, the publisher and registry client in adapters/)."""
