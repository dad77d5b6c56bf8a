"""Render the Kubernetes manifests of the platform into deploy/k8s/icam.yaml.

One table of services, one template per kind: the manifests cannot drift apart, and a test checks
that the committed file equals a fresh rendering (`python deploy/k8s/render.py --check`).
Targets an existing Kafka cluster and PostgreSQL (addresses in the `icam-config` ConfigMap and
`icam-secrets` Secret), and the programme's identity provider: the local OpenID provider, which lets
anyone sign in as anyone, is for development and compose only and never rendered here.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

NAMESPACE = "icam"
IMAGE = "icam-{service}:{tag}"  # pushed to the ministry registry by the release pipeline
SERVICES = {
    # name: (replicas, memory limit) — every service scales out as consumer-group members
    "invitation": (2, "256Mi"),
    "case": (2, "256Mi"),
    "referral": (2, "256Mi"),
    "notification": (2, "256Mi"),
    "gateway": (2, "256Mi"),
    "web": (2, "256Mi"),  # stateless: sessions are in its database, so any replica serves any request
}
PUBLIC_WEB_URL = "https://icam.ibz.example"
OUT = Path(__file__).with_name("icam.yaml")


def _labels(service: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": f"icam-{service}", "app.kubernetes.io/part-of": "icam"}


def _probe(path: str, initial: int) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": "http"}, "initialDelaySeconds": initial, "periodSeconds": 10}


def _env(service: str) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [
        {"name": "ICAM_SERVICE_NAME", "value": service},
        {
            "name": "DATABASE_URL",
            "valueFrom": {"secretKeyRef": {"name": "icam-secrets", "key": f"{service}-database-url"}},
        },
    ]
    if service == "web":
        env.append(
            {
                "name": "ICAM_OIDC_CLIENT_SECRET",
                "valueFrom": {
                    "secretKeyRef": {
                        "name": "icam-secrets",
                        "key": "web-oidc-client-secret",
                        "optional": True,
                    }
                },
            }
        )
    if service == "notification":
        env.append(
            {
                "name": "SMTP_PASSWORD",
                "valueFrom": {
                    "secretKeyRef": {"name": "icam-secrets", "key": "smtp-password", "optional": True}
                },
            }
        )
    return env


def deployment(service: str, replicas: int, memory: str, tag: str) -> dict[str, Any]:
    container = {
        "name": service,
        "image": IMAGE.format(service=service, tag=tag),
        "ports": [{"name": "http", "containerPort": 8080}],
        "envFrom": [{"configMapRef": {"name": "icam-config"}}],
        "env": _env(service),
        "readinessProbe": _probe("/health/ready", 5),
        "livenessProbe": _probe("/health/live", 15),
        "resources": {"requests": {"cpu": "100m", "memory": "160Mi"}, "limits": {"memory": memory}},
        "securityContext": {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
        },
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"icam-{service}", "namespace": NAMESPACE, "labels": _labels(service)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": _labels(service)},
            "template": {"metadata": {"labels": _labels(service)}, "spec": {"containers": [container]}},
        },
    }


def service_object(service: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"icam-{service}", "namespace": NAMESPACE, "labels": _labels(service)},
        "spec": {"selector": _labels(service), "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
    }


def shared_objects(tag: str) -> list[dict[str, Any]]:
    config = {
        "KAFKA_BOOTSTRAP_SERVERS": "kafka-bootstrap.kafka.svc:9092",
        "ICAM_AUTH_ISSUER": "https://login.ibz.example/realms/icam",
        "ICAM_AUTH_JWKS": "https://login.ibz.example/realms/icam/protocol/openid-connect/certs",
        "LOG_FORMAT": "json",
        **{f"{s.upper()}_URL": f"http://icam-{s}.{NAMESPACE}.svc" for s in SERVICES},
        # the web workspace: signs people in at the programme's identity provider, behind TLS
        "ICAM_OIDC_ISSUER": "https://login.ibz.example/realms/icam",
        "ICAM_OIDC_CLIENT_ID": "icam-web",
        "ICAM_WEB_PUBLIC_URL": PUBLIC_WEB_URL,
        "ICAM_WEB_SECURE_COOKIES": "true",
    }
    secret_keys = {
        f"{s}-database-url": f"postgresql://icam_{s}:CHANGE-ME@postgres.example/icam_{s}" for s in SERVICES
    } | {"web-oidc-client-secret": "CHANGE-ME"}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "icam-config", "namespace": NAMESPACE},
            "data": config,
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {"name": "icam-secrets", "namespace": NAMESPACE},
            "stringData": secret_keys,
        },
        topic_job(tag),
    ]


def topic_job(tag: str) -> dict[str, Any]:
    """Creates the topics (3 replicas) before the services start; safe to run again."""
    container = {
        "name": "create-topics",
        "image": IMAGE.format(service="gateway", tag=tag),
        "command": ["icam", "topics", "create", "--replication-factor", "3"],
        "envFrom": [{"configMapRef": {"name": "icam-config"}}],
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "icam-create-topics", "namespace": NAMESPACE},
        "spec": {
            "backoffLimit": 6,
            "template": {"spec": {"restartPolicy": "OnFailure", "containers": [container]}},
        },
    }


def render(tag: str = "0.1.0") -> str:
    objects = shared_objects(tag)
    for service, (replicas, memory) in SERVICES.items():
        objects += [deployment(service, replicas, memory, tag), service_object(service)]
    header = "# Generated by deploy/k8s/render.py — edit that file, then run it.\n"
    return header + yaml.safe_dump_all(objects, sort_keys=False)


if __name__ == "__main__":
    if "--check" in sys.argv:
        sys.exit(
            0 if OUT.read_text() == render() else "deploy/k8s/icam.yaml is stale: run deploy/k8s/render.py"
        )
    OUT.write_text(render())
    print(f"wrote {OUT}")
