"""Scores an ONNX artifact on a frame with onnxruntime (the same runtime
serving uses), for the holdout metrics of the new model and the champion."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort


class OnnxScorer:
    def predict(self, artifact: bytes, X: np.ndarray, task: str) -> tuple[np.ndarray, np.ndarray]:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(artifact, options, providers=["CPUExecutionProvider"])
        x = np.ascontiguousarray(X, dtype=np.float32)
        if task == "classification":
            label, probabilities = session.run(["label", "probabilities"], {"input": x})
            return np.asarray(label).reshape(-1), np.asarray(probabilities)
        (value,) = session.run(["variable"], {"input": x})
        return np.asarray(value).reshape(-1), np.empty((len(x), 0))
