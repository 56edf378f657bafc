"""Settings sections every service shares, and the base class services extend.

Every value comes from an environment variable with the ``DRIFTLOOP_`` prefix;
a section's fields are reached with one underscore after the section name
(``DRIFTLOOP_KAFKA_BOOTSTRAP``, ``DRIFTLOOP_GRPC_PORT``). The defaults run the
embedded platform on one machine. A service builds its settings once, in its
composition root, and passes them down; nothing else reads the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "DRIFTLOOP_"
S = TypeVar("S", bound=BaseSettings)


#: Largest ``DRIFTLOOP_PORT_OFFSET`` (default ports start at 9101 and 50051).
MAX_PORT_OFFSET = 15000


class KafkaSettings(BaseModel):
    """How to reach Kafka and how to talk to it."""

    bootstrap: str = Field(
        "",
        description="host:port list of an existing Kafka cluster. Empty: the embedded "
        "broker at 127.0.0.1:<embedded_port>.",
    )
    embedded: Literal["tansu", "kafka"] = Field(
        "tansu",
        description="Which broker the platform runs itself when no bootstrap is given: "
        "tansu (the embedded Kafka-protocol broker, in memory, starts in a second) or "
        "kafka (Apache Kafka in KRaft mode as a Java child process, its log under "
        "DRIFTLOOP_DATA_DIR/kafka, so topics and offsets survive a restart; needs Java 17+ "
        "and, once, Maven).",
    )
    embedded_port: int = Field(
        19092,
        ge=1,
        le=65535,
        description="Port of the embedded broker (Apache Kafka's controller takes the next); "
        "when not set, 19092 plus the port offset.",
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="Kafka security protocol used by every producer and consumer."
    )
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "PLAIN", description="SASL mechanism when the protocol is SASL_*."
    )
    sasl_username: str = Field("", description="SASL user name.")
    sasl_password: SecretStr = Field(SecretStr(""), description="SASL password.")
    ssl_cafile: Path | None = Field(None, description="CA bundle to verify the brokers (SSL).")
    ssl_certfile: Path | None = Field(None, description="Client certificate (mutual TLS).")
    ssl_keyfile: Path | None = Field(None, description="Client private key (mutual TLS).")
    idempotence: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Idempotent producers with acks=all (no record lost or written twice "
        "when a broker fails or a request is retried). auto: on, except on the embedded "
        "Tansu broker, which does not support it; on and off force it. With it off, "
        "producers wait for the leader only (acks=1).",
    )
    partitions: int = Field(3, ge=1, description="Partitions of each topic created at start.")
    replication_factor: int = Field(1, ge=1, description="Replication of created topics.")
    retention_ms: int | None = Field(
        None,
        ge=-1,
        description="retention.ms of created topics (-1: keep forever). Empty: the broker's "
        "default (Apache Kafka's is 7 days).",
    )
    handler_retries: int = Field(
        3, ge=1, description="Attempts at handling an event before it is dead-lettered."
    )
    retry_backoff_s: float = Field(
        0.2, ge=0, description="First retry delay; doubles on each further attempt."
    )
    linger_ms: int = Field(5, ge=0, description="Producer linger, trading latency for batching.")

    @field_validator("idempotence", mode="before")
    @classmethod
    def _legacy_bool(cls, value: object) -> object:
        # Before "auto" this was a boolean; keep DRIFTLOOP_KAFKA_IDEMPOTENCE=true working.
        if isinstance(value, bool) or str(value).lower() in {"true", "false", "1", "0"}:
            return "on" if str(value).lower() in {"true", "1"} else "off"
        return value

    @property
    def idempotent(self) -> bool:
        """Whether producers run idempotent with acks=all (``idempotence`` resolved)."""
        if self.idempotence != "auto":
            return self.idempotence == "on"
        return not (self.own_broker and self.embedded == "tansu")

    @property
    def servers(self) -> str:
        """The bootstrap servers to connect to."""
        return self.bootstrap or f"127.0.0.1:{self.embedded_port}"

    @property
    def own_broker(self) -> bool:
        """Whether the platform runs its own broker (of kind ``embedded``)."""
        return not self.bootstrap


class GrpcSettings(BaseModel):
    """The service's gRPC server."""

    host: str = Field("127.0.0.1", description="Address the gRPC server binds to.")
    port: int = Field(0, ge=0, le=65535, description="gRPC port; 0 means the service's default.")
    max_message_bytes: int = Field(
        16 * 1024 * 1024, ge=1024, description="Largest request or response message."
    )
    default_deadline_s: float = Field(
        30.0, gt=0, description="Deadline for unary calls whose client set none."
    )
    auth_token: SecretStr = Field(
        SecretStr(""),
        description="Bearer token required on write methods (ACCESS_WRITE in proto/); "
        "empty: no auth.",
    )
    auth_reads: bool = Field(False, description="Require the token on read methods too.")
    tls_certfile: Path | None = Field(None, description="Server certificate; enables TLS.")
    tls_keyfile: Path | None = Field(None, description="Server private key for TLS.")
    shutdown_grace_s: float = Field(
        10.0, ge=0, description="How long in-flight calls may finish on SIGTERM."
    )
    reuse_port: bool = Field(
        False,
        description="Bind with SO_REUSEPORT (grpc.so_reuseport) so that several processes "
        "serve one port and the kernel spreads connections over them (serving workers).",
    )


class MetricsSettings(BaseModel):
    """The Prometheus endpoint."""

    host: str = Field("127.0.0.1", description="Address the metrics endpoint binds to.")
    port: int = Field(0, ge=0, le=65535, description="Metrics port; 0 means the default.")
    enabled: bool = Field(True, description="Serve /metrics.")


class LogSettings(BaseModel):
    """Structured logging."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    format: Literal["auto", "json", "console"] = Field(
        "auto", description="json, console, or auto (console on a TTY, JSON otherwise)."
    )


class ReplicaSettings(BaseModel):
    """This process among the replicas of its service (``DRIFTLOOP_REPLICA_*``)."""

    id: str = Field(
        "",
        pattern=r"^[A-Za-z0-9_.-]*$",
        description="This replica's name among its service's replicas (e.g. the pod's "
        "ordinal); it names its own local state and consumer groups where each replica "
        "reads a whole topic. Empty: the only replica.",
    )
    leases_url: str = Field(
        "",
        description="Where the services that own work per model (training, monitoring) "
        "keep their leases: postgresql://… (replicas on many machines) or sqlite:///path; "
        "empty: SQLite at <data_dir>/leases.db (replicas on one machine).",
    )
    lease_ttl_s: float = Field(
        10.0,
        gt=0,
        description="How long a lease lasts unrenewed: a replica that dies hands its "
        "models over after at most this long. Holders renew at a third of it.",
    )


class ServiceSettings(BaseSettings):
    """Settings every service has. A service subclasses this and adds its own."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="ignore",
        validate_default=True,
    )

    kafka: KafkaSettings = Field(default_factory=KafkaSettings, description="Kafka client.")
    grpc: GrpcSettings = Field(default_factory=GrpcSettings, description="gRPC server.")
    metrics: MetricsSettings = Field(default_factory=MetricsSettings, description="Prometheus.")
    log: LogSettings = Field(default_factory=LogSettings, description="Logging.")
    replica: ReplicaSettings = Field(
        default_factory=ReplicaSettings, description="This replica among its service's."
    )
    data_dir: Path = Field(
        Path("var"), description="Where the service keeps local state (databases, files)."
    )
    spec: Path | None = Field(
        None, description="Path of the declarative spec (YAML) with streams, views and models."
    )
    port_offset: int = Field(
        0,
        ge=0,
        le=MAX_PORT_OFFSET,
        description="Added to every default port (gRPC, metrics, peers), so that two "
        "platforms can run side by side on one machine.",
    )
    gc_threshold: int = Field(
        50_000,
        ge=0,
        description="Allocations between two young-generation garbage collections "
        "(Python's default is 700; 0 keeps it). Services allocate a few objects per "
        "event, and at the default a busy one spends a fifth of its CPU collecting.",
    )
    event_loop: Literal["auto", "uvloop", "asyncio"] = Field(
        "auto",
        description="The asyncio event loop: uvloop (libuv; less CPU per event and per "
        "gRPC call), asyncio (the standard library's), or auto (uvloop where it is "
        "installed, as it is on Linux and macOS).",
    )
    readiness_interval_s: float = Field(
        5.0,
        gt=0,
        description="How often a service checks what its readiness (health "
        "`driftloop.ready`) depends on — its broker, database or online store — and how "
        "long one check may take; a failing check makes it NOT_SERVING until it passes.",
    )
    service_addresses: dict[str, str] = Field(
        default_factory=dict,
        description='host:port of other services by name (JSON, e.g. {"registry": '
        '"registry:50054"}); a service not named is at 127.0.0.1 on its default port.',
    )

    @property
    def local_dir(self) -> Path:
        """Where this replica keeps state only it uses (``data_dir`` itself
        when it is the only replica)."""
        return self.data_dir / f"replica-{self.replica.id}" if self.replica.id else self.data_dir

    @model_validator(mode="after")
    def _offset_the_broker(self) -> ServiceSettings:
        # The port offset moves every default port, the embedded broker's too.
        if "embedded_port" not in self.kafka.model_fields_set:
            self.kafka.embedded_port = KafkaSettings().embedded_port + self.port_offset
        return self

    def address_of(self, service: str) -> str:
        """Where another driftloop service's gRPC server is."""
        from driftloop.platform.ports import SERVICES

        if service in self.service_addresses:
            return self.service_addresses[service]
        return f"127.0.0.1:{SERVICES[service].grpc_port + self.port_offset}"


class SettingsError(SystemExit):
    """Settings could not be loaded; the message names each bad variable."""


def load_settings(cls: type[S]) -> S:
    """Build settings from the environment or exit with a message naming each
    variable that is wrong (``DRIFTLOOP_GRPC_PORT: Input should be ...``)."""
    try:
        return cls()
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = ENV_PREFIX + "_".join(str(p) for p in err["loc"]).upper()
            lines.append(f"  {name}: {err['msg']} (got {err.get('input')!r})")
        raise SettingsError("invalid settings:\n" + "\n".join(lines)) from None
