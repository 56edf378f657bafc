"""Settings of the training service (environment variables prefixed ``DRIFTLOOP_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from driftloop.platform.settings import ServiceSettings


class TrainingSection(BaseModel):
    """The training service's own knobs (``DRIFTLOOP_TRAINING_<FIELD>``)."""

    group: str = Field("training", description="Kafka consumer group of the subscribers.")
    poll_s: float = Field(
        2.0,
        gt=0,
        description="Interval of the trigger loop (initial/policy triggers, retention) and of "
        "the re-check while a run waits for enough labels.",
    )
    label_wait_s: float = Field(
        600.0,
        ge=0,
        description="How long a run waits for min_rows labelled rows in its window before it "
        "fails with not_enough_data.",
    )
    retention_max_age_s: float = Field(
        7 * 24 * 3600.0, gt=0, description="Vectors and labels older than this are deleted."
    )
    retention_max_rows: int = Field(
        1_000_000, ge=100, description="At most this many feature vectors are kept (newest)."
    )
    max_concurrent_runs: int = Field(
        1, ge=1, description="Trainer processes running at once (over all models)."
    )
    registry_deadline_s: float = Field(
        60.0, gt=0, description="Deadline of each call to the registry."
    )
    worker_start_method: Literal["forkserver", "spawn"] = Field(
        "forkserver",
        description="How trainer worker processes start: forked from a clean, pre-warmed fork "
        "server (fast), or a fresh interpreter per run (spawn).",
    )
    worker_threads: int = Field(
        1,
        ge=0,
        description="OpenMP/BLAS threads a trainer may use (0: the libraries' default, one "
        "per core). 1 suits the embedded platform's shared cores.",
    )
    profile_bins: int = Field(
        10, ge=2, le=100, description="Quantile bins per feature in the reference profile."
    )
    chunk_bytes: int = Field(
        1024 * 1024, ge=1024, description="Artifact chunk size when registering a version."
    )


class TrainingSettings(ServiceSettings):
    """Everything the training service can be configured with."""

    training: TrainingSection = Field(
        default_factory=TrainingSection, description="Training service settings."
    )
