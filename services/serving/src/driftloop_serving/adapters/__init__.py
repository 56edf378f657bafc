"""Outbound adapters: onnxruntime, the registry client, the event publisher."""
