"""Apache Kafka (KRaft, one combined broker and controller) as a child process.

The jars come from Maven Central through the pinned Maven project
``deploy/kafka/pom.xml``, fetched once into ``~/.cache/driftloop/kafka-<version>-<pom hash>``;
the configuration is ``deploy/kafka/server.properties`` (the same file
docker-compose uses) with the ports and log directory of this run written
over it. The log directory is formatted once, with a cluster id kept beside
it, so a restart keeps every topic and committed offset.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import structlog

from driftloop.platform.embedded import BrokerError, BrokerProcess

log = structlog.get_logger(__name__)

#: Where the Maven project and the shared server.properties live.
DEPLOY_DIR = Path(__file__).resolve().parents[5] / "deploy" / "kafka"

#: Start faster and smaller: the C1 compiler only (a broker on a development
#: machine is never hot enough for C2 to pay off), the serial collector, a
#: small heap.
JVM_FLAGS = (
    "-Xms128m",
    "-Xmx512m",
    "-XX:TieredStopAtLevel=1",
    "-XX:+UseSerialGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)

MIN_JAVA = 17


def kafka_version() -> str:
    """The Apache Kafka version pinned in deploy/kafka/pom.xml."""
    pom = (DEPLOY_DIR / "pom.xml").read_text()
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom)
    if match is None:
        raise BrokerError(f"no <kafka.version> in {DEPLOY_DIR / 'pom.xml'}")
    return match.group(1)


def cache_dir() -> Path:
    """Where the jars are kept: one directory per version of the pom, so that
    a changed pin fetches again."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    digest = hashlib.sha256((DEPLOY_DIR / "pom.xml").read_bytes()).hexdigest()[:8]
    return Path(base) / "driftloop" / f"kafka-{kafka_version()}-{digest}"


def java_binary() -> str:
    """A Java 17+ ``java``, from JAVA_HOME or the PATH; else a message naming
    what to install."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    hint = (
        f"Apache Kafka needs Java {MIN_JAVA} or newer: install a JDK or JRE "
        "(Debian/Ubuntu: apt-get install openjdk-17-jre-headless) or set JAVA_HOME "
        "— or run on the embedded Tansu broker (DRIFTLOOP_KAFKA_EMBEDDED=tansu)."
    )
    if not java or not Path(java).exists():
        raise BrokerError(hint)
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    major = int(match.group(1)) if match else 0
    if major == 1 and match and match.group(2):  # "1.8.0"
        major = int(match.group(2))
    if major < MIN_JAVA:
        raise BrokerError(f"{java} is Java {major or '?'}. {hint}")
    return java


def fetch_jars() -> Path:
    """The broker's jars, fetched with Maven the first time (a lock keeps two
    test workers from fetching at once)."""
    root = cache_dir()
    jars = root / "jars"
    done = root / ".complete"
    if done.exists():
        return jars
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return jars
        mvn = shutil.which("mvn")
        if mvn is None:
            raise BrokerError(
                "Apache Kafka's jars are fetched once with Maven, which is not installed "
                "(Debian/Ubuntu: apt-get install maven) — or run on the embedded Tansu "
                "broker (DRIFTLOOP_KAFKA_EMBEDDED=tansu)."
            )
        staging = root / "jars.partial"
        shutil.rmtree(staging, ignore_errors=True)
        log.info("kafka.jars.fetching", version=kafka_version(), into=str(jars))
        result = subprocess.run(
            [
                mvn,
                "-q",
                "-B",
                "-f",
                str(DEPLOY_DIR / "pom.xml"),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={staging}",
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
            raise BrokerError(f"Maven could not fetch Apache Kafka's jars:\n{tail}")
        shutil.rmtree(jars, ignore_errors=True)
        staging.rename(jars)
        done.touch()
    return jars


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


class ApacheKafkaBroker(BrokerProcess):
    """One Apache Kafka node on loopback, its state in ``data_dir``.

    ``overrides`` replace lines of the shared server.properties; a cluster
    member passes its node id, quorum voters and replication settings there,
    and the cluster's id (one node makes up its own, kept in the data dir).
    """

    ready_timeout_s = 180.0  # a JVM on a busy two-core machine
    stop_timeout_s = 60.0  # a controlled shutdown moves leadership first

    def __init__(
        self,
        port: int,
        controller_port: int,
        data_dir: Path,
        log_path: Path,
        overrides: dict[str, str] | None = None,
        cluster_id: str | None = None,
    ) -> None:
        super().__init__(port, log_path)
        self.controller_port = controller_port
        self.data_dir = data_dir
        self.overrides = overrides or {}
        self.cluster_id = cluster_id

    @property
    def properties(self) -> dict[str, str]:
        listener = f"PLAINTEXT://127.0.0.1:{self.port}"
        return {
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": f"{listener},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": listener,
            "log.dirs": str((self.data_dir / "log").resolve()),
            **self.overrides,
        }

    def start(self) -> None:
        java = java_binary()
        jars = fetch_jars()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        classpath = f"{jars}{os.sep}*"
        if not (self.data_dir / "log" / "meta.properties").exists():
            self._format(java, classpath, config)
        with contextlib.suppress(OSError):
            self.cluster_id = (self.data_dir / "cluster.id").read_text().strip()
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                [java, *JVM_FLAGS, "-cp", classpath, "kafka.Kafka", str(config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.data_dir,
            )
        log.info("kafka.broker.started", port=self.port, data_dir=str(self.data_dir))

    def _write_config(self) -> Path:
        # Later keys win in a Java properties file: the shared file, then ours.
        base = (DEPLOY_DIR / "server.properties").read_text()
        ours = "".join(f"{k}={v}\n" for k, v in self.properties.items())
        config = self.data_dir / "server.properties"
        config.write_text(f"{base}\n# This run (driftloop.platform.apache_kafka)\n{ours}")
        return config

    def _format(self, java: str, classpath: str, config: Path) -> None:
        id_file = self.data_dir / "cluster.id"
        if not id_file.exists():
            id_file.write_text(self.cluster_id or new_cluster_id())
        result = subprocess.run(
            [
                java,
                *JVM_FLAGS,
                "-cp",
                classpath,
                "kafka.tools.StorageTool",
                "format",
                "--ignore-formatted",
                "-t",
                id_file.read_text().strip(),
                "-c",
                str(config),
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise BrokerError(f"formatting {self.data_dir} failed:\n{result.stdout}{result.stderr}")
