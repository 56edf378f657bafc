"""Outbound adapters: the SQL repository, the artifact store, the event sink and ONNX vetting."""
