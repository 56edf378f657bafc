"""Settings of the serving service (environment variables prefixed ``DRIFTLOOP_``)."""

from __future__ import annotations

import os
import socket
from typing import Literal

from pydantic import Field

from driftloop.platform.settings import ServiceSettings


class ServingSettings(ServiceSettings):
    """Everything the serving service can be configured with."""

    intra_op_threads: int = Field(
        1,
        ge=1,
        description="onnxruntime threads per session for one call. 1 suits small models on "
        "a 2-core machine: the gRPC loop needs the other core.",
    )
    inter_op_threads: int = Field(1, ge=1, description="onnxruntime inter-op threads.")
    max_batch_rows: int = Field(
        65536, ge=1, description="Most rows one request may carry (more: RESOURCE_EXHAUSTED)."
    )
    offload_rows: int = Field(
        256,
        ge=0,
        description="Requests with more rows than this are scored in a worker thread so the "
        "event loop keeps answering; smaller ones score inline.",
    )
    default_candidate_share: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Candidate share while a candidate is loaded but no rollout event set one.",
    )
    default_mode: Literal["canary", "shadow"] = Field(
        "canary", description="Traffic mode while no rollout event set one."
    )
    prediction_buffer: int = Field(
        100_000,
        ge=1,
        description="Scoring calls buffered for publishing; beyond that, events are counted "
        "as unpublished and dropped (the response is never held).",
    )
    prediction_batch: int = Field(
        500, ge=1, description="Most scoring calls published in one batch."
    )
    prediction_linger_s: float = Field(
        0.02,
        ge=0,
        description="How long the publisher lets prediction events gather before it sends "
        "a batch (unless a full batch is ready).",
    )
    publish_timeout_s: float = Field(
        10.0, gt=0, description="How long one prediction batch may take to be acknowledged."
    )
    registry_retry_s: float = Field(
        1.0, gt=0, description="Pause between attempts to reach the registry at start."
    )
    reconcile_interval_s: float = Field(
        30.0,
        gt=0,
        description="How often the aliases are re-read from the registry, in case an "
        "AliasChanged event was missed.",
    )
    download_timeout_s: float = Field(120.0, gt=0, description="Deadline of one artifact download.")
    max_vector_age_s: float = Field(
        3600.0,
        ge=0,
        description="Entity-keyed inference (parameter entity_id, no tensor): an entity "
        "vector older than this is not scored (FAILED_PRECONDITION). 0: no bound.",
    )
    feature_wait_s: float = Field(
        10.0,
        gt=0,
        description="Entity-keyed inference: how long a lookup waits for an unreachable "
        "feature service (e.g. restarting) to come back before the request fails "
        "UNAVAILABLE.",
    )
    stream_scoring: bool = Field(True, description="Score vectors from driftloop.features.")
    stream_group: str = Field(
        "driftloop-serving-stream",
        description="Consumer group for stream scoring, shared by replicas (each vector is "
        "scored once).",
    )
    serving_workers: int = Field(
        1,
        ge=1,
        description="Serving processes sharing the gRPC port (SO_REUSEPORT); each has its "
        "own consumer groups for models and rollouts, so every change reaches all of them. "
        "Worker k serves /metrics on the metrics port + 10 k.",
    )
    instance_id: str = Field(
        "",
        description="This replica's name, used in its own consumer group for models and "
        "rollouts (every replica must see every change) and in the traffic-split pins it "
        "publishes. Empty: host name and pid.",
    )

    @property
    def instance(self) -> str:
        """This replica's name: ``instance_id``, else host name and pid."""
        return self.instance_id or f"{socket.gethostname()}-{os.getpid()}"
