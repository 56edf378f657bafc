"""Models loaded into onnxruntime with explicit session options."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from driftloop.platform.datatypes import oip_name
from driftloop_serving.domain.tensors import DTYPES, TensorSpec


def session_options(intra_op_threads: int, inter_op_threads: int) -> ort.SessionOptions:
    """Options sized for a small machine. No custom-op library is ever
    registered, so an artifact can only use onnxruntime's built-in kernels."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = inter_op_threads
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Spinning threads burn a core between requests; this machine has two.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.log_severity_level = 3
    return options


def _spec(arg: ort.NodeArg) -> TensorSpec:
    shape = tuple(d if isinstance(d, int) and d >= 0 else -1 for d in (arg.shape or ()))
    return TensorSpec(arg.name, oip_name(arg.type), shape)


class OnnxRunner:
    """One onnxruntime session; ``run`` returns every output in graph order."""

    def __init__(self, data: bytes, options: ort.SessionOptions) -> None:
        self._session: ort.InferenceSession | None = ort.InferenceSession(
            data, sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.inputs = [_spec(a) for a in self._session.get_inputs()]
        self.outputs = [_spec(a) for a in self._session.get_outputs()]
        self._run = self._session.run

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self._run(None, feeds)

    def warm(self, rounds: int = 3) -> None:
        """Score zeros a few times so the first real request is not the slow one."""
        for spec in self.inputs:
            if spec.datatype not in DTYPES:  # the registry refuses such models
                raise ValueError(f"input {spec.name!r}: serving cannot feed {spec.datatype}")
        feeds = {
            spec.name: np.zeros(
                tuple(1 if d < 0 else d for d in spec.shape), dtype=DTYPES[spec.datatype]
            )
            for spec in self.inputs
        }
        for _ in range(rounds):
            self.run(feeds)

    def close(self) -> None:
        # Drop the session; its memory goes with the last reference.
        self._session = None
        self._run = _closed


def _closed(*_args: object) -> list[np.ndarray]:
    raise RuntimeError("session released")


class OnnxLoader:
    """Builds :class:`OnnxRunner` s with the configured options."""

    def __init__(self, intra_op_threads: int, inter_op_threads: int) -> None:
        self._options = session_options(intra_op_threads, inter_op_threads)

    def load(self, data: bytes) -> OnnxRunner:
        runner = OnnxRunner(data, self._options)
        runner.warm()
        return runner
