"""What runs inside the trainer worker process: build the built-in
scikit-learn estimator or call the user's trainer, export ONNX in the
platform's contract (input ``input`` FP32 [-1, width]; ``label`` and
``probabilities`` for classification, ``variable`` for regression) and check
the result. Heavy libraries are imported here, in the child, only."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import platform
import resource
import traceback
from pathlib import Path
from typing import Any

BUILTINS = {
    ("classification", "logistic_regression"): "sklearn.linear_model:LogisticRegression",
    ("classification", "hist_gradient_boosting"): (
        "sklearn.ensemble:HistGradientBoostingClassifier"
    ),
    ("regression", "ridge"): "sklearn.linear_model:Ridge",
    ("regression", "gradient_boosting"): "sklearn.ensemble:GradientBoostingRegressor",
    ("regression", "hist_gradient_boosting"): "sklearn.ensemble:HistGradientBoostingRegressor",
}


class InvalidOutput(Exception):
    """The trainer returned something that is not a usable model."""


def library_versions() -> dict[str, str]:
    import numpy
    import onnx
    import onnxruntime
    import skl2onnx
    import sklearn

    return {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scikit-learn": sklearn.__version__,
        "skl2onnx": skl2onnx.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
    }


def _load(ref: str) -> Any:
    module, _, name = ref.partition(":")
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def builtin_estimator(task: str, name: str, params: dict[str, Any], seed: int) -> Any:
    ref = BUILTINS.get((task, name))
    if ref is None:
        raise ValueError(f"no built-in trainer {name!r} for {task}")
    cls = _load(ref)
    kwargs = dict(params)
    if "random_state" in inspect.signature(cls).parameters:
        kwargs.setdefault("random_state", seed)
    if name == "logistic_regression":
        kwargs.setdefault("max_iter", 1000)
    return cls(**kwargs)


def to_onnx(model: Any, task: str, width: int) -> bytes:
    """A fitted estimator, ONNX bytes or an ``onnx.ModelProto`` as contract ONNX."""
    import onnx

    if isinstance(model, bytes | bytearray):
        try:
            proto = onnx.load_from_string(bytes(model))
        except Exception as exc:
            raise InvalidOutput(f"returned bytes are not an ONNX model: {exc}") from None
    elif isinstance(model, onnx.ModelProto):
        proto = model
    elif hasattr(model, "predict"):
        proto = _convert(model, task, width)
    else:
        raise InvalidOutput(
            f"trainer returned {type(model).__name__}; expected ONNX bytes, an onnx "
            "ModelProto or a fitted scikit-learn estimator"
        )
    return proto.SerializeToString()


def _patch_bool_attributes() -> None:
    """skl2onnx 1.20 passes numpy bools in integer attributes of tree nodes
    (HistGradientBoosting's missing-value tracks), which onnx rejects; coerce
    such lists to ints (the values are 0/1 either way)."""
    import numpy as np
    import skl2onnx.common._container as container

    if getattr(container.make_node, "_driftloop", False):
        return
    original = container.make_node

    def integral(v: Any) -> bool:
        return isinstance(v, bool | int | np.bool_ | np.integer)

    def make_node(*args: Any, **attrs: Any) -> Any:
        for key, value in attrs.items():
            if (
                isinstance(value, list | tuple)
                and any(isinstance(v, bool | np.bool_) for v in value)
                and all(integral(v) for v in value)
            ):
                attrs[key] = [int(v) for v in value]
        return original(*args, **attrs)

    make_node._driftloop = True  # type: ignore[attr-defined]
    container.make_node = make_node


def _convert(model: Any, task: str, width: int) -> Any:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.base import is_classifier

    _patch_bool_attributes()
    options: dict[Any, Any] = {}
    if task == "classification":
        if not is_classifier(model):
            raise InvalidOutput(f"{type(model).__name__} is not a classifier")
        options[id(model)] = {"zipmap": False}
        last = getattr(model, "steps", [[None, None]])[-1][1]
        if last is not None:
            options[id(last)] = {"zipmap": False}
    try:
        proto = convert_sklearn(
            model,
            initial_types=[("input", FloatTensorType([None, width]))],
            options=options,
        )
    except Exception as exc:
        first = str(exc).splitlines()[0][:300]
        raise InvalidOutput(f"cannot export {type(model).__name__} to ONNX: {first}") from None
    names = ["label", "probabilities"] if task == "classification" else ["variable"]
    _rename_outputs(proto.graph, names)
    return proto


def _rename_outputs(graph: Any, names: list[str]) -> None:
    mapping = {o.name: new for o, new in zip(graph.output, names, strict=False)}
    for node in graph.node:
        for i, out in enumerate(node.output):
            if out in mapping:
                node.output[i] = mapping[out]
        for i, inp in enumerate(node.input):
            if inp in mapping:
                node.input[i] = mapping[inp]
    for o in graph.output:
        o.name = mapping.get(o.name, o.name)


def check(artifact: bytes, task: str, X: Any) -> None:
    """Load with onnxruntime and score a few rows: the contract holds or
    :class:`InvalidOutput` says what is wrong."""
    import numpy as np
    import onnxruntime as ort

    try:
        session = ort.InferenceSession(artifact, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise InvalidOutput(f"onnxruntime cannot load the model: {exc}") from None
    inputs = session.get_inputs()
    if len(inputs) != 1 or inputs[0].name != "input" or inputs[0].type != "tensor(float)":
        found = [(i.name, i.type) for i in inputs]
        raise InvalidOutput(f"model must have one FP32 input named 'input', has {found}")
    width = inputs[0].shape[-1] if inputs[0].shape else None
    if isinstance(width, int) and width != X.shape[1]:
        raise InvalidOutput(f"model input width {width} != feature width {X.shape[1]}")
    wanted = ["label", "probabilities"] if task == "classification" else ["variable"]
    outputs = [o.name for o in session.get_outputs()]
    if any(w not in outputs for w in wanted):
        raise InvalidOutput(f"model outputs {outputs}, expected {wanted}")
    sample = np.ascontiguousarray(X[:8], dtype=np.float32)
    try:
        result = session.run(wanted, {"input": sample})
    except Exception as exc:
        raise InvalidOutput(f"model fails on sample rows: {exc}") from None
    if any(len(r) != len(sample) for r in result):
        raise InvalidOutput("model returns a different number of rows than it was given")


def child_main(job_dir: str, memory_mb: int) -> None:
    """Entry of the worker process: read the job, train, write the result."""
    job = Path(job_dir)
    try:
        versions = library_versions()  # imports the heavy libraries before the limit
        _limit_memory(memory_mb)
        import numpy as np

        (job / "ready").touch()  # the trainer's timeout starts now, not at process start

        spec = json.loads((job / "job.json").read_text())
        if spec.get("threads"):
            from threadpoolctl import threadpool_limits

            # Oversubscribed OpenMP/BLAS threads on a shared machine slow
            # training by an order of magnitude; the limit holds for this process.
            threadpool_limits(int(spec["threads"]))
        data = np.load(job / "data.npz", allow_pickle=False)
        X, y = data["X"], data["y"]
        task, seed = spec["task"], int(spec["seed"])
        if spec.get("callable"):
            fn = _load(spec["callable"])
            kwargs = {"seed": seed} if "seed" in inspect.signature(fn).parameters else {}
            model = fn(X, y, list(spec["feature_names"]), **kwargs)
        else:
            model = builtin_estimator(task, spec["builtin"], spec["params"], seed)
            model.fit(X, y)
        artifact = to_onnx(model, task, X.shape[1])
        check(artifact, task, X)
        (job / "model.onnx").write_bytes(artifact)
        (job / "info.json").write_text(json.dumps({"library_versions": versions}))
    except MemoryError:
        _unlimit_memory()  # room to write the verdict
        _fail(job, "memory", f"trainer exceeded the memory limit of {memory_mb} MB")
    except InvalidOutput as exc:
        _fail(job, "invalid_output", str(exc))
    except BaseException as exc:
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        _fail(job, "trainer_error", f"trainer raised {tb}")


def _limit_memory(memory_mb: int) -> None:
    # RLIMIT_AS counts address space, and the interpreter with numpy and
    # onnxruntime already maps a lot: the limit is the baseline plus the budget.
    with open("/proc/self/statm") as f:
        baseline = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = baseline + memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _unlimit_memory() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def _fail(job: Path, kind: str, reason: str) -> None:
    (job / "error.json").write_text(json.dumps({"kind": kind, "reason": reason[:2000]}))
