"""The end of a run: the evaluation gate and the alias a new version earns."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from driftloop.platform.errors import Conflict, NotFound
from driftloop.platform.spec import ModelSpec
from driftloop_training.domain.evaluation import gate
from driftloop_training.domain.runs import Run, RunFailed, Trigger
from driftloop_training.service.ports import Registry

T = TypeVar("T")


async def registry_call(call: Awaitable[T]) -> T:
    """Await a registry call; transport trouble fails the run as ``registry``."""
    try:
        return await call
    except (Conflict, NotFound):
        raise
    except Exception as exc:
        raise RunFailed("registry", f"registry call failed: {exc}") from None


def gate_metric(model: ModelSpec) -> str:
    """The spec's gate metric; for regression the default (``accuracy``) means RMSE."""
    metric = model.training.gate_metric
    if model.task == "regression" and metric in ("accuracy", "roc_auc", "log_loss"):
        return "rmse"
    return metric


async def decide_alias(
    registry: Registry,
    run: Run,
    model: ModelSpec,
    has_champion: bool,
    champion_metrics: dict[str, float] | None,
    completion_id: str,
) -> None:
    """Apply the gate to a registered run and move the alias it earned:
    ``champion`` for a model's first version, ``candidate`` when the gate
    passes (compare-and-set, retried once on a conflict), none otherwise.
    Sets ``run.gate_passed`` and ``run.gate_reason``."""
    p = model.training
    if not has_champion:
        # The loop's first model: no rollout to compare against, it serves directly.
        reason = "first version of the model becomes the champion"
        try:
            await registry_call(
                registry.set_alias(
                    model.name,
                    "champion",
                    run.version,
                    0,
                    reason,
                    completion_id,
                    run.correlation_id,
                )
            )
            run.gate_passed, run.gate_reason = True, reason
        except Conflict as exc:
            run.gate_passed, run.gate_reason = False, f"champion set meanwhile: {exc}"
        return
    result = gate(
        run.metrics,
        champion_metrics,
        metric=gate_metric(model),
        margin=p.gate_margin,
        mode=p.gate,
        after_drift=run.trigger is Trigger.DRIFT,
    )
    run.gate_passed, run.gate_reason = result.passed, result.reason
    if not result.passed:
        return
    for attempt in (1, 2):
        current = await registry_call(registry.aliased(model.name, "candidate"))
        try:
            await registry_call(
                registry.set_alias(
                    model.name,
                    "candidate",
                    run.version,
                    current.version if current else 0,
                    f"gate passed: {result.reason}",
                    completion_id,
                    run.correlation_id,
                )
            )
            return
        except Conflict as exc:
            if attempt == 2:
                run.gate_passed = False
                run.gate_reason = f"{result.reason}; candidate alias conflict: {exc}"
