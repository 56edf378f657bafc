"""Rules every rendered overlay keeps, for every workload in it, so that a new
service (or a careless edit) cannot ship without them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from driftloop.platform.grpc_server import READY
from driftloop.platform.spec import load_spec
from driftloop.platform.topics import ALL as TOPICS

from .conftest import K8S, ROOT

Objects = list[dict[str, Any]]
WORKLOADS = ("Deployment", "StatefulSet", "Job")
SERVICES = {"ingestion", "feature", "training", "registry", "serving", "monitoring"}
MIB = {"Mi": 1, "Gi": 1024}


def of_kind(objs: Objects, *kinds: str) -> Objects:
    return [o for o in objs if o["kind"] in kinds]


def name(o: dict[str, Any]) -> str:
    return str(o["metadata"]["name"])


def pod(o: dict[str, Any]) -> dict[str, Any]:
    return dict(o["spec"]["template"]["spec"])


def container(o: dict[str, Any]) -> dict[str, Any]:
    return dict(pod(o)["containers"][0])


def env(o: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container(o).get("env", [])}


def config(objs: Objects) -> dict[str, str]:
    (cm,) = [o for o in of_kind(objs, "ConfigMap") if name(o).startswith("driftloop-config-")]
    return dict(cm["data"])


def mib(quantity: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", quantity).groups()  # type: ignore[union-attr]
    return int(number) * MIB[unit]


def services(objs: Objects) -> Objects:
    return [o for o in of_kind(objs, "Deployment", "StatefulSet")]


def test_every_driftloop_service_is_deployed(overlay: tuple[str, Objects]) -> None:
    _, objs = overlay
    assert {name(o) for o in services(objs)} == SERVICES
    assert {name(o) for o in of_kind(objs, "Service")} == SERVICES
    assert not of_kind(objs, "Secret"), "secrets are referenced, never rendered"


def test_pods_are_locked_down(overlay: tuple[str, Objects]) -> None:
    _, objs = overlay
    for o in of_kind(objs, *WORKLOADS):
        spec = pod(o)
        assert spec["securityContext"]["runAsNonRoot"] is True, name(o)
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name(o)
        assert spec.get("automountServiceAccountToken") is False, name(o)
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, name(o)
            assert sc["readOnlyRootFilesystem"] is True, name(o)
            assert sc["capabilities"]["drop"] == ["ALL"], name(o)
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, name(o)
        for v in spec.get("volumes", []):
            assert "hostPath" not in v, name(o)
            if "emptyDir" in v:
                assert v["emptyDir"].get("sizeLimit"), f"{name(o)}: unbounded emptyDir"
                mounts = [m["mountPath"] for m in container(o)["volumeMounts"]]
                paths = [
                    m["mountPath"] for m in container(o)["volumeMounts"] if m["name"] == v["name"]
                ]
                assert paths == ["/tmp"], f"{name(o)}: emptyDir {v['name']} at {paths} ({mounts})"


def test_images_come_from_the_kustomize_images_entry(overlay: tuple[str, Objects]) -> None:
    _, objs = overlay
    for o in of_kind(objs, *WORKLOADS):
        image = container(o)["image"]
        assert re.fullmatch(r"[a-z0-9.-]+(:\d+)?/[a-z0-9/_.-]+:[\w.-]+", image), (name(o), image)


def test_state_lives_in_postgresql_redis_or_a_volume(overlay: tuple[str, Objects]) -> None:
    _, objs = overlay
    cfg = config(objs)
    assert cfg["DRIFTLOOP_FEATURE_ONLINE_STORE"] == "redis"
    by_name = {name(o): o for o in services(objs)}
    for svc, var in (
        ("registry", "DRIFTLOOP_DATABASE_URL"),
        ("feature", "DRIFTLOOP_FEATURE_REDIS_URL"),
    ):
        ref = env(by_name[svc])[var]["valueFrom"]["secretKeyRef"]
        assert ref["name"] == "driftloop-secrets" and not ref.get("optional"), (svc, ref)
    for o in services(objs):
        data_dir = env(o)["DRIFTLOOP_DATA_DIR"]["value"]
        if o["kind"] == "StatefulSet":
            assert data_dir == "/data"
            claims = [c["metadata"]["name"] for c in o["spec"]["volumeClaimTemplates"]]
            mounts = {m["name"]: m["mountPath"] for m in container(o)["volumeMounts"]}
            assert mounts[claims[0]] == "/data", name(o)
        else:
            assert data_dir.startswith("/tmp/"), f"{name(o)} keeps nothing but a cache"


def test_secrets_are_referenced_not_inlined(overlay: tuple[str, Objects]) -> None:
    _, objs = overlay
    secretish = re.compile(r"PASSWORD|TOKEN|DATABASE_URL|REDIS_URL|KEYFILE")
    assert not [k for k in config(objs) if secretish.search(k)]
    for o in of_kind(objs, *WORKLOADS):
        for var, e in env(o).items():
            if secretish.search(var):
                assert "secretKeyRef" in e.get("valueFrom", {}), (name(o), var)


def test_probes_mean_different_things(overlay: tuple[str, Objects]) -> None:
    _, objs = overlay
    for o in services(objs):
        c = container(o)
        port = next(p["containerPort"] for p in c["ports"] if p["name"] == "grpc")
        startup, live, ready = c["startupProbe"], c["livenessProbe"], c["readinessProbe"]
        for probe in (startup, live, ready):
            assert probe["grpc"]["port"] == port, name(o)
        # Liveness asks the overall health (""); readiness `driftloop.ready`,
        # which each service sets only while it can do its job.
        assert not live["grpc"].get("service"), name(o)
        assert ready["grpc"]["service"] == READY, name(o)
        # Startup covers a slow start; liveness restarts later than readiness drains.
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 120, name(o)
        assert (
            live["periodSeconds"] * live["failureThreshold"]
            > ready["periodSeconds"] * ready["failureThreshold"]
        ), name(o)


def test_shutdown_fits_the_grace_period(overlay: tuple[str, Objects]) -> None:
    _, objs = overlay
    grace_s = float(config(objs)["DRIFTLOOP_GRPC_SHUTDOWN_GRACE_S"])
    for o in services(objs):
        pre_stop = container(o)["lifecycle"]["preStop"]["exec"]["command"]
        assert pre_stop[0] == "sleep", name(o)
        # preStop while endpoints drop the pod, then in-flight calls, then
        # commits and closing (at least 10 s for those).
        assert pod(o)["terminationGracePeriodSeconds"] >= int(pre_stop[1]) + grace_s + 10, name(o)


def test_resources_are_sized_from_the_measured_memory(overlay: tuple[str, Objects]) -> None:
    _, objs = overlay
    measured = _measured_peaks()
    for o in services(objs):
        res = container(o)["resources"]
        assert res["requests"]["cpu"], name(o)
        request, limit = mib(res["requests"]["memory"]), mib(res["limits"]["memory"])
        # The request holds the idle process; the limit the peak with headroom.
        assert request >= measured[name(o)][0], name(o)
        assert limit >= 1.5 * measured[name(o)][1], name(o)
        assert request < limit <= 1024, name(o)


def _measured_peaks() -> dict[str, tuple[int, int]]:
    """(idle, peak) MiB per service from the loop benchmark's memory table."""
    text = (ROOT / "bench" / "results" / "loop.md").read_text()
    rows = re.findall(r"^\| (\w+) \| (\d+) \| (\d+) \|$", text, re.M)
    return {svc: (int(idle), int(peak)) for svc, idle, peak in rows if svc in SERVICES}


def test_spread_disruption_budget_and_policies(overlay: tuple[str, Objects]) -> None:
    _, objs = overlay
    pdbs = {
        name(p): p["spec"]["selector"]["matchLabels"] for p in of_kind(objs, "PodDisruptionBudget")
    }
    (deny,) = [
        n
        for n in of_kind(objs, "NetworkPolicy")
        if not n["spec"].get("ingress") and not n["spec"].get("egress")
    ]
    denied = set(deny["spec"]["podSelector"]["matchExpressions"][0]["values"])
    for o in of_kind(objs, *WORKLOADS):
        labels = o["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] in denied, f"{name(o)} escapes the default deny"
    for o in services(objs):
        labels = o["spec"]["template"]["metadata"]["labels"]
        assert pdbs[name(o)].items() <= labels.items(), name(o)
        keys = {t["topologyKey"] for t in pod(o)["topologySpreadConstraints"]}
        assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}, name(o)


def test_stateless_services_autoscale_within_the_partitions(overlay: tuple[str, Objects]) -> None:
    _, objs = overlay
    partitions = int(config(objs).get("DRIFTLOOP_KAFKA_PARTITIONS", "0"))
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(objs, "HorizontalPodAutoscaler")
    }
    assert set(hpas) == {o["metadata"]["name"] for o in of_kind(objs, "Deployment")}
    for target, hpa in hpas.items():
        assert hpa["spec"]["minReplicas"] >= 2, target
        if target != "serving":  # consumers: more replicas than partitions idle
            assert hpa["spec"]["maxReplicas"] <= partitions, target


def test_alert_rules_use_metrics_the_code_exports(overlay: tuple[str, Objects]) -> None:
    _, objs = overlay
    (rule,) = of_kind(objs, "PrometheusRule")
    exprs = [r["expr"] for g in rule["spec"]["groups"] for r in g["rules"]]
    names = {
        re.sub(r"_(bucket|count|sum)$", "", m)
        for e in exprs
        for m in re.findall(r"driftloop_\w+", e)
    }
    code = "".join(
        p.read_text()
        for base in ("libs", "services")
        for p in (ROOT / base).rglob("*.py")
        if "/tests/" not in str(p)
    )
    assert names and all(f'"{n}"' in code for n in names), sorted(
        n for n in names if f'"{n}"' not in code
    )
    alerts = {r["alert"] for g in rule["spec"]["groups"] for r in g["rules"]}
    for needed in (
        "Drift",
        "RolledBack",
        "DeadLetters",
        "ConsumerLag",
        "ServingErrors",
        "LatencyP99",
    ):
        assert any(needed in a for a in alerts), needed


def test_topics_are_created_before_the_services(overlay: tuple[str, Objects]) -> None:
    kind, objs = overlay
    if kind == "strimzi":
        topics = {name(t) for t in of_kind(objs, "KafkaTopic")}
        assert topics == {t.name for t in TOPICS}
        assert not of_kind(objs, "Job"), "the Topic Operator owns the topics"
    else:
        (job,) = of_kind(objs, "Job")
        assert container(job)["command"] == ["driftloop", "topics", "ensure"]


@pytest.mark.parametrize("spec", [K8S / "base" / "spec.yaml"])
def test_the_shipped_spec_is_valid(spec: Path) -> None:
    assert load_spec(spec).models
