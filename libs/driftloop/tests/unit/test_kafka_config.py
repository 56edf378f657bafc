"""One Apache Kafka configuration: the local broker and docker-compose's kafka
service both run on deploy/kafka/server.properties, each overriding only
where it runs."""

from pathlib import Path

import yaml

from driftloop.platform.apache_kafka import DEPLOY_DIR, ApacheKafkaBroker, kafka_version

ROOT = DEPLOY_DIR.parents[1]


def _properties(text: str) -> dict[str, str]:
    # Java properties: the last occurrence of a key wins.
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs if not k.lstrip().startswith("#")}


def test_the_local_broker_runs_the_shared_file_with_its_own_ports_and_log(tmp_path: Path):
    broker = ApacheKafkaBroker(29092, 29093, tmp_path / "kafka", tmp_path / "broker.log")
    (tmp_path / "kafka").mkdir()
    config = _properties(broker._write_config().read_text())
    shared = _properties((DEPLOY_DIR / "server.properties").read_text())
    assert config["auto.create.topics.enable"] == shared["auto.create.topics.enable"] == "false"
    assert config["listeners"] == "PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093"
    assert config["controller.quorum.voters"] == "1@127.0.0.1:29093"
    assert config["log.dirs"] == str((tmp_path / "kafka" / "log").resolve())


def test_compose_kafka_mounts_the_shared_file_and_keeps_its_log_on_its_volume():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    kafka = compose["services"]["kafka"]
    mounts = dict(v.split(":", 1) for v in kafka["volumes"])
    assert mounts["./deploy/kafka/server.properties"].startswith(
        "/mnt/shared/config/server.properties"
    )
    env = kafka["environment"]
    assert mounts["kafka-data"] == env["KAFKA_LOG_DIRS"]
    assert env["CLUSTER_ID"]  # formatted once, kept on the volume
    # The image is the version the local broker fetches.
    assert kafka["image"] == f"apache/kafka:{kafka_version()}"
