"""Pure serving logic: tensors, routing and the per-model serving state."""
