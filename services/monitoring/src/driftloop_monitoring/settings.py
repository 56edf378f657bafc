"""Settings of the monitoring service (environment variables prefixed ``DRIFTLOOP_``).

Per-model thresholds (detector, windows, cooldown, rollout policy) live in the
declarative spec; these are the service-wide knobs and the defaults used for a
model the spec does not name.
"""

from __future__ import annotations

from pydantic import Field

from driftloop.platform.settings import ServiceSettings


class MonitoringSettings(ServiceSettings):
    """Everything the monitoring service can be configured with."""

    consumer_group: str = Field(
        "monitoring", description="Kafka consumer group prefix of the monitoring subscribers."
    )
    state_db: str = Field(
        "monitoring.db",
        description="SQLite file (relative to data_dir) holding what must survive a restart: "
        "the model catalog, the label-join buffer, rollouts and drift cooldowns.",
    )
    tick_s: float = Field(
        1.0, gt=0, description="How often label waits and rollout timeouts are checked."
    )
    quality_window: int = Field(
        1000, ge=10, description="Labelled predictions in each version's sliding quality window."
    )
    rollout_min_predictions: int = Field(
        30,
        ge=1,
        description="Predictions per side before the label-free guard rails (error rate, "
        "latency p99) may roll a candidate back.",
    )
    rollout_max_prediction_psi: float = Field(
        2.0,
        gt=0,
        description="Guard rail: PSI between candidate and champion prediction distributions "
        "(plus what chance gives at the sample sizes) above which a candidate is rolled back "
        "once both sides have min_labelled_per_side labels that do not show it not worse. "
        "Label evidence outranks it: a model retrained after drift is expected to predict "
        "differently.",
    )
    recent_drift_kept: int = Field(
        20, ge=1, description="Drift events per model kept for GetModelHealth."
    )
    registry_bootstrap: bool = Field(
        True,
        description="At start, ask the registry for current aliases (best effort; the "
        "driftloop.models topic remains the source of truth).",
    )
