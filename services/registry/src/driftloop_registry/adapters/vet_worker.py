"""The vetting process: checks one artifact under memory and CPU limits and
prints one JSON line, ``{"ok": true, "signature": ...}`` or ``{"ok": false,
"reason": ...}``. It runs apart from the service so that a hostile model can
exhaust only this process, and it vets exactly one artifact (a fresh process
per model: nothing one model did can affect the next)."""

from __future__ import annotations

import json
import os
import resource
import sys
from pathlib import Path
from typing import Any

from driftloop.platform.datatypes import BY_OIP, SERVABLE, oip_name


class Refused(Exception):
    """The artifact is not acceptable; the message says why."""


def _limit_memory(memory_mb: int) -> None:
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))


def _tensors(graph: Any) -> Any:
    """Every tensor of a graph and its subgraphs (initializers, attributes)."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            if attr.HasField("g"):
                yield from _tensors(attr.g)
            for sub in attr.graphs:
                yield from _tensors(sub)


def _check_no_external_data(model: Any) -> None:
    import onnx

    for tensor in _tensors(model.graph):
        if tensor.data_location != onnx.TensorProto.EXTERNAL and not tensor.external_data:
            continue
        location = next((e.value for e in tensor.external_data if e.key == "location"), "")
        if os.path.isabs(location) or location.startswith(("/", "\\")):
            where = f"an absolute path {location!r}"
        elif ".." in Path(location).parts or ".." in location.split("\\"):
            where = f"a path outside the model {location!r}"
        else:
            where = f"the file {location!r}"
        raise Refused(
            f"tensor {tensor.name!r} keeps its data in {where}; external data is not allowed"
        )


def _signature(session: Any) -> dict[str, list[dict[str, Any]]]:
    def specs(items: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": i.name,
                "datatype": oip_name(i.type),
                "shape": [d if isinstance(d, int) and d >= 0 else -1 for d in (i.shape or [])],
            }
            for i in items
        ]

    return {"inputs": specs(session.get_inputs()), "outputs": specs(session.get_outputs())}


def _check_servable(signature: dict[str, Any]) -> None:
    """Serving feeds and reads fixed-size numeric tensors only (the platform's
    datatype table says which): refuse what it could not load or answer."""
    for kind in ("inputs", "outputs"):
        for spec in signature[kind]:
            if spec["datatype"] not in SERVABLE:
                raise Refused(
                    f"{kind[:-1]} {spec['name']!r} has datatype {spec['datatype']}, which "
                    f"serving cannot carry (it serves {', '.join(sorted(SERVABLE))})"
                )


def _trial_run(session: Any, signature: dict[str, Any]) -> None:
    """Run one all-zero row: a graph that allocates gigabytes fails here."""
    import numpy as np

    feeds = {
        spec["name"]: np.zeros(
            [1 if d < 0 else d for d in spec["shape"]], dtype=BY_OIP[spec["datatype"]].numpy
        )
        for spec in signature["inputs"]
    }
    try:
        session.run(None, feeds)
    except MemoryError:
        raise Refused("a trial inference ran out of memory") from None
    except Exception as exc:
        raise Refused(f"a trial inference failed: {_short(exc)}") from None


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."


def vet(path: Path, feature_width: int) -> dict[str, Any]:
    import onnx
    import onnxruntime as ort
    from google.protobuf.message import DecodeError

    ort.set_default_logger_severity(4)
    data = path.read_bytes()
    try:
        model = onnx.load_model_from_string(data)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise Refused(f"not an ONNX model (it does not parse: {_short(exc)})") from None
    if model.ir_version <= 0 or not model.graph.output or not model.opset_import:
        raise Refused("not an ONNX model (no IR version, opset or graph outputs)")
    _check_no_external_data(model)
    try:
        onnx.checker.check_model(model)
    except Exception as exc:
        raise Refused(f"onnx.checker: {_short(exc)}") from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise Refused(f"onnxruntime cannot load it: {_short(exc)}") from None
    signature = _signature(session)
    if feature_width:
        inputs = signature["inputs"]
        if len(inputs) != 1 or len(inputs[0]["shape"]) != 2:
            raise Refused(
                f"feature_width {feature_width} needs one input of shape [-1, width]; the "
                f"model has {[(i['name'], i['shape']) for i in inputs]}"
            )
        width = inputs[0]["shape"][1]
        if width != feature_width:
            raise Refused(
                f"input {inputs[0]['name']!r} has width {'dynamic' if width < 0 else width}, "
                f"the feature view has {feature_width} values"
            )
    _check_servable(signature)
    _trial_run(session, signature)
    return signature


def _limit_cpu(cpu_s: int) -> None:
    # Counted from now: the imports a warm worker did before its job are free.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    limit = int(usage.ru_utime + usage.ru_stime) + cpu_s
    resource.setrlimit(resource.RLIMIT_CPU, (limit, limit + 1))


def _verdict(path: Path, width: int, memory_mb: int) -> dict[str, Any]:
    try:
        return {"ok": True, "signature": vet(path, width)}
    except Refused as exc:
        return {"ok": False, "reason": str(exc)}
    except MemoryError:
        return {"ok": False, "reason": f"vetting ran out of memory (limit {memory_mb} MiB)"}


def main(argv: list[str]) -> int:
    """``--serve MEMORY_MB CPU_S``: import the runtimes, then vet the one job
    (``{"path": ..., "feature_width": ...}``) read from stdin. Otherwise
    ``PATH FEATURE_WIDTH MEMORY_MB CPU_S`` vets at once."""
    if argv[0] == "--serve":
        memory_mb, cpu_s = int(argv[1]), int(argv[2])
        _limit_memory(memory_mb)
        import onnx  # noqa: F401  (warm up before the job arrives)
        import onnxruntime  # noqa: F401

        line = sys.stdin.readline()
        if not line:
            return 0
        job = json.loads(line)
        path, width = Path(job["path"]), int(job["feature_width"])
    else:
        path, width, memory_mb, cpu_s = Path(argv[0]), int(argv[1]), int(argv[2]), int(argv[3])
        _limit_memory(memory_mb)
    _limit_cpu(cpu_s)
    result = _verdict(path, width, memory_mb)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
