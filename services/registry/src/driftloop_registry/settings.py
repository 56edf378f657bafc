"""Settings of the registry service (environment variables prefixed ``DRIFTLOOP_``)."""

from __future__ import annotations

from pydantic import Field

from driftloop.platform.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    """Everything the registry service can be configured with."""

    database_url: str = Field(
        "",
        description="Metadata database: empty for SQLite at <data_dir>/registry.db, "
        "`sqlite:///path`, or a `postgresql://user@host:port/db` URL.",
    )
    database_schema: str = Field(
        "driftloop_registry", description="PostgreSQL schema holding the registry's tables."
    )
    max_artifact_mb: int = Field(
        64, ge=1, le=2047, description="Largest artifact accepted, in MiB."
    )
    vet_memory_mb: int = Field(
        1024, ge=256, description="Address-space limit of the vetting process, in MiB."
    )
    vet_cpu_s: int = Field(20, ge=1, description="CPU-time limit of the vetting process.")
    vet_timeout_s: float = Field(30.0, gt=0, description="Wall-time limit of one vetting run.")
    vet_concurrency: int = Field(2, ge=1, description="Vetting processes run at once.")
    download_chunk_kb: int = Field(
        1024, ge=16, le=8192, description="Size of each DownloadArtifact chunk, in KiB."
    )
    outbox_poll_s: float = Field(
        1.0, gt=0, description="How often the outbox is checked when nothing woke it."
    )
    rollouts_group: str = Field(
        "driftloop-registry", description="Consumer group reading rollout decisions."
    )
    fault_crash_after_commits: int = Field(
        0,
        ge=0,
        description="Fault injection for tests: exit the process right after its N-th "
        "committed change, before that change's event is published (0: never). Never set "
        "in production.",
    )
