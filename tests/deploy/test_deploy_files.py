"""The production deploy files describe every service, probe it, and create the topics first."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

from icam_contracts.topics import TOPICS
from icam_platform.topics import plan

pytestmark = pytest.mark.unit

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SERVICES = {"privacy", "invitation", "case", "referral", "notification", "gateway", "web"}


def _render_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("icam_k8s_render", DEPLOY / "k8s" / "render.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_committed_kubernetes_manifests_are_a_fresh_rendering() -> None:
    assert (DEPLOY / "k8s" / "icam.yaml").read_text() == _render_module().render()


def test_every_service_has_a_probed_deployment_and_a_service() -> None:
    objects = list(yaml.safe_load_all((DEPLOY / "k8s" / "icam.yaml").read_text()))
    deployments = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}
    services = {o["metadata"]["name"] for o in objects if o["kind"] == "Service"}
    assert set(deployments) == {f"icam-{s}" for s in SERVICES | {"web"}} == services
    for deployment in deployments.values():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert any(o["kind"] == "Job" and "topics" in o["metadata"]["name"] for o in objects)


def test_compose_runs_kafka_postgres_topics_and_every_service() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert set(compose["services"]) == SERVICES | {"kafka", "postgres", "topics", "oidc"}


def test_the_web_signs_in_at_the_identity_provider_behind_tls_and_no_local_provider_runs_in_production() -> (
    None
):
    objects = list(yaml.safe_load_all((DEPLOY / "k8s" / "icam.yaml").read_text()))
    config = next(o for o in objects if o["kind"] == "ConfigMap")["data"]
    assert config["ICAM_OIDC_ISSUER"].startswith("https://") and config["ICAM_WEB_SECURE_COOKIES"] == "true"
    assert not any("oidc" in o["metadata"]["name"] for o in objects)
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert compose["services"]["web"]["environment"]["GATEWAY_URL"] == "http://gateway:8080"
    assert "icam_web" in (DEPLOY / "postgres-init.sql").read_text()


def test_every_event_topic_gets_a_dead_letter_topic_with_production_replication() -> None:
    names = {p.name for p in plan(replication_factor=3)}
    for topic in TOPICS:
        assert {topic.name, topic.dlq} <= names
    assert all(p.config["min.insync.replicas"] == "2" for p in plan(replication_factor=3))
