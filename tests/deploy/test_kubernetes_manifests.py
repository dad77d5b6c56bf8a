"""The Kubernetes manifests are valid, locked down, and open exactly the paths the platform uses."""

from __future__ import annotations

import importlib.util
import ipaddress
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from icam_contracts.topics import DEFAULT_PARTITIONS

pytestmark = pytest.mark.unit

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
VERSIONS = ("1.31.0", "1.37.0")  # oldest still supported by the big clouds, newest known
OBJECTS: list[dict[str, Any]] = list(yaml.safe_load_all((K8S / "icam.yaml").read_text()))
SERVICES = ("privacy", "invitation", "case", "referral", "notification")


def _render_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("icam_k8s_render", K8S / "render.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


render = _render_module()


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in OBJECTS if o["kind"] == kind}


def pod_specs() -> dict[str, dict[str, Any]]:
    workloads = of_kind("Deployment") | of_kind("Job")
    return {name: o["spec"]["template"]["spec"] for name, o in workloads.items()}


@pytest.mark.parametrize("version", VERSIONS)
def test_every_object_is_valid_against_the_kubernetes_schemas_with_no_unknown_field(version: str) -> None:
    for obj in OBJECTS:
        kubernetes_validate.validate(obj, version, strict=True)


def test_the_schema_check_refuses_a_misspelt_field() -> None:
    broken = of_kind("Deployment")["icam-case"] | {"spec": {"replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)


def test_every_container_runs_as_non_root_on_a_read_only_root_with_no_capabilities() -> None:
    for name, spec in pod_specs().items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        assert {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}} in spec["volumes"], name
        for container in spec["containers"]:
            security = container["securityContext"]
            assert security["runAsNonRoot"] and security["runAsUser"] != 0, name
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"] == {"drop": ["ALL"]}, name
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"], name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name


def test_every_replicated_deployment_keeps_all_but_one_replica_through_a_node_drain() -> None:
    budgets = of_kind("PodDisruptionBudget")
    for name, deployment in of_kind("Deployment").items():
        assert deployment["spec"]["replicas"] >= 2
        budget = budgets[name]["spec"]
        assert budget["maxUnavailable"] == 1
        assert budget["selector"] == deployment["spec"]["selector"]


def test_every_replicated_deployment_scales_on_cpu_between_its_replicas_and_what_its_topics_allow() -> None:
    scalers = of_kind("HorizontalPodAutoscaler")
    for name, deployment in of_kind("Deployment").items():
        spec = scalers[name]["spec"]
        assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert spec["minReplicas"] == deployment["spec"]["replicas"] < spec["maxReplicas"]
        if name not in ("icam-gateway", "icam-web"):  # consumers: one member per partition works
            assert spec["maxReplicas"] <= DEFAULT_PARTITIONS, name
        [metric] = spec["metrics"]
        assert metric["resource"]["name"] == "cpu" and metric["resource"]["target"]["type"] == "Utilization"


def test_the_web_workspace_is_ready_to_deploy_beside_the_services() -> None:
    web = of_kind("Deployment")["icam-web"]["spec"]["template"]["spec"]["containers"][0]
    assert "icam_web.app:create_app" in web["command"]
    assert any(e["name"] == "DATABASE_URL" for e in web["env"])  # its sessions, in PostgreSQL
    assert {"icam-web", "icam-gateway"} == set(of_kind("Ingress"))


def test_the_topic_job_runs_the_icam_command_from_the_image_that_has_it() -> None:
    job = of_kind("Job")["icam-create-topics"]["spec"]["template"]["spec"]["containers"][0]
    assert job["image"].startswith("icam-platform:") and job["command"][:3] == ["icam", "topics", "create"]


def test_a_component_added_to_the_table_gets_every_object_it_needs() -> None:
    extra = render.Component("reporting", "icam_reporting.app:create_app", calls=("gateway",))
    assert (
        render.deployment(extra, "1")["spec"]["template"]["spec"]["containers"][0]["command"][2] == extra.app
    )
    policy = render.network_policy(extra)["spec"]
    assert any(
        rule["to"] == [{"podSelector": {"matchLabels": render.labels("gateway")}}]
        for rule in policy["egress"]
    )
    assert render.disruption_budget(extra)["spec"]["selector"]["matchLabels"] == render.labels("reporting")


# --- the network, evaluated the way a NetworkPolicy implementation does --------------------------


@dataclass(frozen=True)
class Endpoint:
    """A pod (namespace and labels) or an address outside the cluster."""

    namespace: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    ip: str | None = None


def pod(component: str) -> Endpoint:
    return Endpoint("icam", render.labels(component))


INGRESS_CONTROLLER = Endpoint("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
PROMETHEUS = Endpoint("monitoring", {"app.kubernetes.io/name": "prometheus"})
KAFKA = Endpoint("kafka", {"strimzi.io/kind": "Kafka"})
OUTSIDE = Endpoint(ip="203.0.113.7")


def _matches(peer: dict[str, Any], who: Endpoint, policy_namespace: str) -> bool:
    if "ipBlock" in peer:
        return who.ip is not None and ipaddress.ip_address(who.ip) in ipaddress.ip_network(
            peer["ipBlock"]["cidr"]
        )
    if who.ip is not None:
        return False
    namespaces = peer.get("namespaceSelector")
    in_namespace = (
        who.namespace == policy_namespace
        if namespaces is None
        else namespaces.get("matchLabels", {}).items()
        <= {"kubernetes.io/metadata.name": who.namespace}.items()
    )
    pods = peer.get("podSelector", {}).get("matchLabels", {})
    return in_namespace and pods.items() <= who.labels.items()


def _allowed(policies: list[dict[str, Any]], direction: str, other: Endpoint, port: int) -> bool:
    side = "from" if direction == "ingress" else "to"
    for policy in policies:
        for rule in policy["spec"].get(direction, []):
            ports = [p["port"] for p in rule.get("ports", [])]
            peers = rule.get(side, [])
            if (not ports or port in ports) and any(_matches(p, other, "icam") for p in peers):
                return True
    return False


def _selecting(who: Endpoint, policy_type: str) -> list[dict[str, Any]]:
    return [
        p
        for p in of_kind("NetworkPolicy").values()
        if who.namespace == "icam"
        and policy_type in p["spec"]["policyTypes"]
        and p["spec"]["podSelector"].get("matchLabels", {}).items() <= who.labels.items()
    ]


def can_connect(source: Endpoint, target: Endpoint, port: int = 8080) -> bool:
    """Both sides must allow it: the source's egress (if in icam) and the target's ingress."""
    leaves = source.namespace != "icam" or _allowed(_selecting(source, "Egress"), "egress", target, port)
    enters = target.namespace != "icam" or _allowed(_selecting(target, "Ingress"), "ingress", source, port)
    return leaves and enters


def test_from_outside_only_the_gateway_and_the_web_front_can_be_reached() -> None:
    reachable = {c.name for c in render.COMPONENTS if can_connect(INGRESS_CONTROLLER, pod(c.name))}
    assert reachable == {"gateway", "web"}
    assert not can_connect(OUTSIDE, pod("gateway"))


def test_the_gateway_calls_the_four_services_and_the_web_front_calls_only_the_gateway() -> None:
    assert all(can_connect(pod("gateway"), pod(s)) for s in SERVICES)
    assert can_connect(pod("web"), pod("gateway"))
    assert not any(can_connect(pod("web"), pod(s)) for s in SERVICES)


def test_services_call_each_other_over_http_only_for_keys_and_subject_access() -> None:
    """Events travel over Kafka; the one HTTP path between services is key custody (ADR 0012):
    the sealing services ask the privacy service for keys, and it asks them for subject access."""
    sealing = {"invitation", "case", "referral", "notification"}
    for source in SERVICES:
        for target in (*SERVICES, "gateway", "web"):
            allowed = {source, target} <= sealing | {"privacy"} and "privacy" in {source, target}
            if target != source:
                assert can_connect(pod(source), pod(target)) == allowed, f"{source} → {target}"


def test_services_reach_kafka_and_postgresql_and_the_gateway_and_web_only_what_they_use() -> None:
    postgres = Endpoint(ip=render.NETWORK["postgres"]["cidr"].split("/")[0])
    for service in SERVICES:
        assert can_connect(pod(service), KAFKA, 9092) and can_connect(pod(service), postgres, 5432)
    assert can_connect(pod("gateway"), postgres, 5432) and not can_connect(pod("gateway"), KAFKA, 9092)
    assert can_connect(pod("web"), postgres, 5432) and not can_connect(pod("web"), KAFKA, 9092)
    assert not any(can_connect(pod(c.name), OUTSIDE, 443) for c in render.COMPONENTS)


def test_only_the_notification_service_reaches_the_mail_relay_and_the_sms_provider() -> None:
    relay = Endpoint(ip=render.NETWORK["smtp_relay"]["cidr"].split("/")[0])
    senders = {c.name for c in render.COMPONENTS if can_connect(pod(c.name), relay, 587)}
    assert senders == {"notification"}


def test_prometheus_can_scrape_every_component_that_serves_metrics() -> None:
    scraped = {c.name for c in render.COMPONENTS if can_connect(PROMETHEUS, pod(c.name))}
    annotated = {
        name.removeprefix("icam-")
        for name, d in of_kind("Deployment").items()
        if d["spec"]["template"]["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    }
    assert scraped == annotated == {*SERVICES}  # the gateway and the web front have no /metrics yet


def test_everything_else_in_the_namespace_is_denied_by_default() -> None:
    deny = of_kind("NetworkPolicy")["default-deny"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    stray = Endpoint("icam", {"app.kubernetes.io/name": "debug-shell"})
    assert not can_connect(stray, pod("case")) and not can_connect(pod("case"), stray)
