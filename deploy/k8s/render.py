"""Render the Kubernetes manifests of the platform into deploy/k8s/icam.yaml.

One table of components, one template per kind: the manifests cannot drift apart, and a test checks
that the committed file equals a fresh rendering (`python deploy/k8s/render.py --check`) and that
every object is valid against the Kubernetes schemas. Adding a component is one row of COMPONENTS.

Targets an existing Kafka cluster and PostgreSQL (addresses in the `icam-config` ConfigMap and the
`icam-secrets` Secret). The network is closed by default: each component may receive traffic only
from who calls it (the ingress controller for the public ones, Prometheus for /metrics) and may
send only to what it needs. EDIT the addresses in NETWORK to your cluster before deploying: the
CIDRs are documentation placeholders (RFC 5737). The web signs people in at the programme's
identity provider: the local OpenID provider, which lets anyone sign in as anyone, is for
development and compose only and never rendered here.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from icam_contracts.topics import DEFAULT_PARTITIONS

NAMESPACE = "icam"
IMAGE = "icam-{component}:{tag}"  # pushed to the ministry registry by the release pipeline
PORT = 8080  # every image listens there (deploy/Dockerfile)
UID = 10001  # the image's non-root user


@dataclass(frozen=True)
class Component:
    """One deployable: what it runs, what it needs, who may call it."""

    name: str
    app: str  # uvicorn factory, module:function
    replicas: int = 2
    memory: str = "256Mi"
    database: bool = True
    kafka: bool = True
    calls: tuple[str, ...] = ()  # other components it sends HTTP requests to
    external: tuple[str, ...] = ("identity_provider",)  # destinations in NETWORK outside the cluster
    host: str | None = None  # public host name: reachable from outside, through the ingress controller
    metrics: bool = True  # serves /metrics (the kernel's services do; the gateway not yet)

    @property
    def public(self) -> bool:
        return self.host is not None


SEALING = ("invitation", "case", "referral", "notification")  # obtain data keys from privacy (ADR 0012)

COMPONENTS = (
    # key custody, erasure, retention, subject access: asks each service for a person's data
    Component("privacy", "icam_privacy.app:create_app", calls=SEALING),
    Component("invitation", "icam_invitation.app:create_app", calls=("privacy",)),
    Component("case", "icam_case.app:create_app", calls=("privacy",)),
    Component("referral", "icam_referral.app:create_app", calls=("privacy",)),
    Component(
        "notification",
        "icam_notification.app:create_app",
        calls=("privacy",),
        external=("identity_provider", "smtp_relay", "sms_provider"),
    ),
    Component(
        "gateway",
        "icam_gateway.app:create_app",
        kafka=False,
        calls=("invitation", "case", "referral", "notification", "privacy"),
        host="api.icam.ibz.example",
        metrics=False,
    ),
    # the browser workspace (locally on port 8105): talks only to the gateway and the identity
    # provider; its sessions are in its own database, so any replica serves any request
    Component(
        "web",
        "icam_web.app:create_app",
        kafka=False,
        calls=("gateway",),
        host="icam.ibz.example",
        metrics=False,
    ),
)

NETWORK: dict[str, dict[str, Any]] = {
    # in-cluster peers, selected by namespace
    "kafka": {"namespace": "kafka", "ports": [9092]},
    "ingress": {"namespace": "ingress-nginx", "ports": [PORT]},
    "monitoring": {"namespace": "monitoring", "ports": [PORT]},
    "dns": {"namespace": "kube-system", "pods": {"k8s-app": "kube-dns"}, "ports": [53], "udp": True},
    # outside the cluster: CHANGE the CIDRs
    "postgres": {"cidr": "192.0.2.10/32", "ports": [5432]},
    "identity_provider": {"cidr": "192.0.2.20/32", "ports": [443]},
    "smtp_relay": {"cidr": "192.0.2.30/32", "ports": [587, 25]},
    "sms_provider": {"cidr": "192.0.2.40/32", "ports": [443]},
}
OUT = Path(__file__).with_name("icam.yaml")


def labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": f"icam-{name}", "app.kubernetes.io/part-of": "icam"}


def _meta(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": NAMESPACE, **extra}


def _probe(path: str, initial: int) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": "http"}, "initialDelaySeconds": initial, "periodSeconds": 10}


def _secret(key: str, optional: bool = False) -> dict[str, Any]:
    ref: dict[str, Any] = {"name": "icam-secrets", "key": key}
    return {"secretKeyRef": ref | ({"optional": True} if optional else {})}


def _env(c: Component) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [{"name": "ICAM_SERVICE_NAME", "value": c.name}]
    if c.database:
        env.append({"name": "DATABASE_URL", "valueFrom": _secret(f"{c.name}-database-url")})
    if c.name != "web":  # the gateway signs, the services check, that the gateway audited a read
        env.append(
            {"name": "ICAM_AUDIT_PROOF_SECRET", "valueFrom": _secret("audit-proof-secret", optional=True)}
        )
    if "smtp_relay" in c.external:
        env.append({"name": "SMTP_PASSWORD", "valueFrom": _secret("smtp-password", optional=True)})
    if "sms_provider" in c.external:
        env.append({"name": "SMS_PROVIDER_TOKEN", "valueFrom": _secret("sms-provider-token", optional=True)})
    if c.name in SEALING:  # the workload token the privacy service knows this service by
        env.append({"name": "ICAM_KEYRING_URL", "value": f"http://icam-privacy.{NAMESPACE}.svc"})
        env.append({"name": "ICAM_SERVICE_TOKEN", "valueFrom": _secret(f"{c.name}-service-token")})
    if c.name == "privacy":  # the key-encryption key (a KMS adapter would replace it)
        env.append({"name": "PRIVACY_KEK", "valueFrom": _secret("privacy-kek")})
    if c.name == "web":
        env.append(
            {"name": "ICAM_OIDC_CLIENT_SECRET", "valueFrom": _secret("web-oidc-client-secret", optional=True)}
        )
    return env


def container_security() -> dict[str, Any]:
    """Non-root, nothing to escalate to, no Linux capabilities, an immutable root file system."""
    return {
        "runAsNonRoot": True,
        "runAsUser": UID,
        "runAsGroup": UID,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def pod_spec(containers: list[dict[str, Any]], restart: str | None = None) -> dict[str, Any]:
    """Pod settings shared by every workload: security, no API token, a writable /tmp only."""
    spec: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": UID,
            "runAsGroup": UID,
            "fsGroup": UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": containers,
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
    }
    for container in containers:
        container["securityContext"] = container_security()
        container["volumeMounts"] = [{"name": "tmp", "mountPath": "/tmp"}]
    return spec | ({"restartPolicy": restart} if restart else {})


def deployment(c: Component, tag: str) -> dict[str, Any]:
    container = {
        "name": c.name,
        "image": IMAGE.format(component=c.name, tag=tag),
        "command": [
            "uvicorn",
            "--factory",
            c.app,
            "--host",
            "0.0.0.0",
            "--port",
            str(PORT),
            "--no-access-log",
        ],
        "ports": [{"name": "http", "containerPort": PORT}],
        "envFrom": [{"configMapRef": {"name": "icam-config"}}],
        "env": _env(c),
        "readinessProbe": _probe("/health/ready", 5),
        "livenessProbe": _probe("/health/live", 15),
        "resources": {
            "requests": {"cpu": "100m", "memory": "160Mi", "ephemeral-storage": "64Mi"},
            "limits": {"cpu": "1", "memory": c.memory, "ephemeral-storage": "128Mi"},
        },
    }
    scrape = {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(PORT),
        "prometheus.io/path": "/metrics",
    }
    scrape = scrape if c.metrics else {"prometheus.io/scrape": "false"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(f"icam-{c.name}", labels=labels(c.name)),
        "spec": {
            "replicas": c.replicas,
            "selector": {"matchLabels": labels(c.name)},
            "template": {
                "metadata": {"labels": labels(c.name), "annotations": scrape},
                "spec": pod_spec([container]),
            },
        },
    }


def service_object(c: Component) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(f"icam-{c.name}", labels=labels(c.name)),
        "spec": {"selector": labels(c.name), "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
    }


def disruption_budget(c: Component) -> dict[str, Any]:
    """A node drain takes at most one replica away at a time."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(f"icam-{c.name}", labels=labels(c.name)),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels(c.name)}},
    }


# consumers scale to the partitions of the topics they read (one member per partition does work;
# more stand by); the gateway and the web are stateless and scale further (docs/scaling.md)
MAX_REPLICAS = {"gateway": 10, "web": 10}


def autoscaler(c: Component) -> dict[str, Any]:
    """More replicas when the pods' CPU passes 70 % of what they request, back down after five
    quiet minutes; never fewer than the Deployment's replicas (the disruption budget needs two)."""
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"icam-{c.name}"}
    cpu = {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(f"icam-{c.name}", labels=labels(c.name)),
        "spec": {
            "scaleTargetRef": target,
            "minReplicas": c.replicas,
            "maxReplicas": MAX_REPLICAS.get(c.name, DEFAULT_PARTITIONS),
            "metrics": [{"type": "Resource", "resource": cpu}],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
        },
    }


def ingress(c: Component) -> dict[str, Any]:
    """The public host of `c`, TLS terminated at the ingress controller."""
    backend = {"service": {"name": f"icam-{c.name}", "port": {"name": "http"}}}
    path = {"path": "/", "pathType": "Prefix", "backend": backend}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _meta(f"icam-{c.name}", labels=labels(c.name)),
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{"hosts": [c.host], "secretName": f"icam-{c.name}-tls"}],
            "rules": [{"host": c.host, "http": {"paths": [path]}}],
        },
    }


def _ports(peer: dict[str, Any], protocols: tuple[str, ...] = ("TCP",)) -> list[dict[str, Any]]:
    return [{"protocol": p, "port": port} for port in peer["ports"] for p in protocols]


def _peer(name: str) -> dict[str, Any]:
    """A NetworkPolicy rule reaching one NETWORK destination."""
    peer = NETWORK[name]
    if "cidr" in peer:
        return {"to": [{"ipBlock": {"cidr": peer["cidr"]}}], "ports": _ports(peer)}
    namespace = {"matchLabels": {"kubernetes.io/metadata.name": peer["namespace"]}}
    selector: dict[str, Any] = {"namespaceSelector": namespace}
    if "pods" in peer:
        selector["podSelector"] = {"matchLabels": peer["pods"]}
    return {"to": [selector], "ports": _ports(peer, ("UDP", "TCP") if peer.get("udp") else ("TCP",))}


def _to_component(name: str) -> dict[str, Any]:
    return {
        "to": [{"podSelector": {"matchLabels": labels(name)}}],
        "ports": [{"protocol": "TCP", "port": PORT}],
    }


def _callers(c: Component) -> list[dict[str, Any]]:
    """Who may open a connection to `c`: its callers, Prometheus, the ingress controller if public."""
    pods = [{"podSelector": {"matchLabels": labels(o.name)}} for o in COMPONENTS if c.name in o.calls]
    rules = [{"from": pods, "ports": [{"protocol": "TCP", "port": PORT}]}] if pods else []
    for source in (*(("monitoring",) if c.metrics else ()), *(("ingress",) if c.public else ())):
        rules.append({"from": _peer(source)["to"], "ports": _ports(NETWORK[source])})
    return rules


def _policy(name: str, selected: dict[str, str], ingress: list[Any], egress: list[Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(name, labels=selected),
        "spec": {
            "podSelector": {"matchLabels": selected},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        },
    }


def network_policy(c: Component) -> dict[str, Any]:
    """Ingress only from who calls `c`; egress only to DNS, what it calls, Kafka, PostgreSQL."""
    needs = (*(("kafka",) if c.kafka else ()), *(("postgres",) if c.database else ()), *c.external)
    egress = [_peer("dns"), *(_to_component(o) for o in c.calls), *(_peer(n) for n in needs)]
    return _policy(f"icam-{c.name}", labels(c.name), _callers(c), egress)


def default_deny() -> dict[str, Any]:
    """Nothing in the namespace talks to anything unless a policy below allows it."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta("default-deny"),
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


def topic_job(tag: str) -> list[dict[str, Any]]:
    """Creates the topics (3 replicas) before the services start; safe to run again. Runs the
    `icam` command, which lives in the platform tools image (`--build-arg SERVICE=platform`)."""
    container = {
        "name": "create-topics",
        "image": IMAGE.format(component="platform", tag=tag),
        "command": ["icam", "topics", "create", "--replication-factor", "3"],
        "envFrom": [{"configMapRef": {"name": "icam-config"}}],
        "resources": {
            "requests": {"cpu": "50m", "memory": "96Mi"},
            "limits": {"cpu": "500m", "memory": "192Mi"},
        },
    }
    job_labels = labels("create-topics")
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta("icam-create-topics", labels=job_labels),
        "spec": {
            "backoffLimit": 6,
            "template": {"metadata": {"labels": job_labels}, "spec": pod_spec([container], "OnFailure")},
        },
    }
    return [job, _policy("icam-create-topics", job_labels, [], [_peer("dns"), _peer("kafka")])]


def shared_objects() -> list[dict[str, Any]]:
    config = {
        "KAFKA_BOOTSTRAP_SERVERS": "kafka-bootstrap.kafka.svc:9092",
        "ICAM_AUTH_ISSUER": "https://login.ibz.example/realms/icam",
        "ICAM_AUTH_JWKS": "https://login.ibz.example/realms/icam/protocol/openid-connect/certs",
        "LOG_FORMAT": "json",
        **{f"{c.name.upper()}_URL": f"http://icam-{c.name}.{NAMESPACE}.svc" for c in COMPONENTS},
        # the web workspace: signs people in at the programme's identity provider, behind TLS
        "ICAM_OIDC_ISSUER": "https://login.ibz.example/realms/icam",
        "ICAM_OIDC_CLIENT_ID": "icam-web",
        "ICAM_WEB_PUBLIC_URL": "https://icam.ibz.example",
        "ICAM_WEB_SECURE_COOKIES": "true",
    }
    secret_keys = {
        f"{c.name}-database-url": f"postgresql://icam_{c.name}:CHANGE-ME@postgres.example/icam_{c.name}"
        for c in COMPONENTS
        if c.database
    } | {"web-oidc-client-secret": "CHANGE-ME"}
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": _meta("icam-secrets")}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("icam-config"), "data": config},
        secret | {"stringData": secret_keys},
        default_deny(),
    ]


def render(tag: str = "0.1.0") -> str:
    objects = shared_objects() + topic_job(tag)
    for c in COMPONENTS:
        objects += [deployment(c, tag), service_object(c), network_policy(c)]
        objects += [disruption_budget(c), autoscaler(c)] if c.replicas > 1 else []
        objects += [ingress(c)] if c.public else []
    header = "# Generated by deploy/k8s/render.py — edit that file, then run it.\n"
    return header + yaml.safe_dump_all(objects, sort_keys=False)


if __name__ == "__main__":
    if "--check" in sys.argv:
        sys.exit(
            0 if OUT.read_text() == render() else "deploy/k8s/icam.yaml is stale: run deploy/k8s/render.py"
        )
    OUT.write_text(render())
    print(f"wrote {OUT}")
