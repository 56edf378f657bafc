"""Settings of the feature service (environment variables prefixed ``DRIFTLOOP_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from driftloop.platform.settings import ServiceSettings


class FeatureSection(BaseModel):
    """The feature service's own settings (``DRIFTLOOP_FEATURE_<NAME>``)."""

    online_store: Literal["auto", "memory", "redis"] = Field(
        "auto",
        description="Where the newest vector per entity is kept: memory (per replica: it "
        "serves the entities of its partitions), redis (shared: every replica serves every "
        "entity), or auto: redis when DRIFTLOOP_REPLICA_ID is set (several replicas), "
        "memory otherwise.",
    )
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0", description="Redis URL of the online store (redis backend)."
    )
    redis_prefix: str = Field(
        "driftloop:feature:", description="Prefix of every online-store key in Redis."
    )
    redis_cache_entries: int = Field(
        100_000,
        ge=0,
        description="Online-store values kept in process in front of Redis (0: none); Redis "
        "invalidates them when anyone changes the key (client-side caching, CLIENT TRACKING).",
    )
    group: str = Field("driftloop-feature", description="Kafka consumer group the replicas share.")
    batch: int = Field(2000, ge=1, description="Most records fetched and handled per batch.")
    checkpoint_interval_s: float = Field(
        5.0, ge=0, description="How often partition state is checkpointed (and always at stop)."
    )
    max_entities: int = Field(
        1_000_000,
        ge=0,
        description="Most entities whose state one partition keeps per view (0: no bound); past "
        "it the least recently updated entity is evicted and starts from empty state when it "
        "returns. The service keeps up to this times its partitions times its views.",
    )
    max_lookup_entities: int = Field(
        1000, ge=1, description="Most entity ids one GetOnlineFeatures call may ask for."
    )


class FeatureSettings(ServiceSettings):
    """Everything the feature service can be configured with."""

    feature: FeatureSection = Field(
        default_factory=FeatureSection, description="Feature service settings."
    )
