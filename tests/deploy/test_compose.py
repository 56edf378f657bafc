"""docker-compose.yml comes up in production shape: durable stores for what
must survive, topics made before the services start, the alert rules loaded."""

from __future__ import annotations

from typing import Any

import yaml

from .conftest import K8S, ROOT

SERVICES = ("ingestion", "feature", "training", "registry", "serving", "monitoring")


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"])


def test_services_start_after_the_topics_with_their_console_scripts() -> None:
    services = compose()
    assert services["topics"]["command"] == ["driftloop", "topics", "ensure"]
    for name in SERVICES:
        svc = services[name]
        assert svc["command"] == [f"driftloop-{name}"], name
        assert svc["depends_on"]["topics"] == {"condition": "service_completed_successfully"}


def test_registry_on_postgresql_and_online_store_on_redis() -> None:
    services = compose()
    assert services["registry"]["environment"]["DRIFTLOOP_DATABASE_URL"].startswith("postgresql://")
    assert services["registry"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    feature = services["feature"]
    assert feature["environment"]["DRIFTLOOP_FEATURE_ONLINE_STORE"] == "redis"
    assert feature["environment"]["DRIFTLOOP_FEATURE_REDIS_URL"].startswith("redis://redis:")
    assert feature["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "redis-data:/data" in services["redis"]["volumes"]


def test_cli_reaches_the_services_by_name() -> None:
    env = compose()["cli"]["environment"]
    addresses = yaml.safe_load(env["DRIFTLOOP_SERVICE_ADDRESSES"])
    assert addresses == {
        name: f"{name}:{port}" for name, port in zip(SERVICES, range(50051, 50057), strict=True)
    }


def test_prometheus_loads_the_same_rules_as_the_cluster() -> None:
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "rules.yml").read_text())
    cluster = yaml.safe_load(
        (K8S / "components" / "prometheus-operator" / "prometheusrule.yaml").read_text()
    )
    assert rules["groups"] == cluster["spec"]["groups"]
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/rules.yml"]
    assert {job["job_name"] for job in config["scrape_configs"]} == set(SERVICES)
    mounts = compose()["prometheus"]["volumes"]
    assert "./deploy/prometheus/rules.yml:/etc/prometheus/rules.yml:ro" in mounts
