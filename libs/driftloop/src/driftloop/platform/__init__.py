"""What every driftloop service shares: settings, logging, the event bus, the
gRPC bootstrap, metrics, the declarative spec and the embedded broker."""
