"""The gateway's OpenAPI document: every operation it serves, typed, so that clients can be
generated from it and fuzzers can walk it.

Composed from the services' own OpenAPI documents and the route table (so it cannot drift from
either): each row becomes `/api<path>` with the service's request and response schemas, its
problem responses, a unique operationId (`<service>_<operation>`) and the service as tag; the
gateway's own routes (views, audit, health) are added as the gateway declares them. Component
schemas are prefixed with their service (`case.Page`), title included, where two services use
one name for two shapes.

The composed document is committed (`openapi.json` in this package) and served at
`/openapi.json`; `python -m icam_gateway.openapi_document` writes it again, and a test fails
when the committed file differs from what the services declare now.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from icam_auth.policy import ROUTES

SERVICE_APPS = {
    "invitation": "icam_invitation.app",
    "case": "icam_case.app",
    "referral": "icam_referral.app",
    "notification": "icam_notification.app",
    "privacy": "icam_privacy.app",
}
COMMITTED = "openapi.json"
# what the gateway itself answers for a forwarded operation when the owning service fails it
_UPSTREAM = {
    "502": "The owning service failed",
    "503": "The owning service is unavailable: retry (Retry-After)",
    "504": "The owning service did not answer in time: retry",
}
_REF = re.compile(r'"#/components/schemas/([^"]+)"')
# a gateway view that answers one service operation's answer unchanged says which (`answer_of`)
_ANSWER_OF = "x-icam-answer-of"


def answer_of(service: str, path: str) -> dict[str, Any]:
    """`openapi_extra` of a gateway view that passes on the answer of `GET <path>` of `service`: the
    composed document gives the view that operation's success response (its schema, not `{}`)."""
    return {_ANSWER_OF: {"service": service, "path": path}}


def _renamed_refs(node: Any, names: dict[str, str]) -> Any:
    text = _REF.sub(lambda m: f'"#/components/schemas/{names.get(m.group(1), m.group(1))}"', json.dumps(node))
    return json.loads(text)


def _schema_names(documents: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Per service, the name each of its schemas gets in the composed document."""
    owners: dict[str, set[str]] = {}
    for document in documents.values():
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            owners.setdefault(name, set()).add(json.dumps(schema, sort_keys=True))
    shared = {name for name, shapes in owners.items() if len(shapes) == 1}
    return {
        service: {
            name: name if name in shared else f"{service}.{name}"
            for name in document.get("components", {}).get("schemas", {})
        }
        for service, document in documents.items()
    }


def _operation(service: str, route: Any, operation: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    composed: dict[str, Any] = _renamed_refs(copy.deepcopy(operation), names)
    composed["operationId"] = f"{service}_{operation.get('operationId', route.purpose.replace(' ', '_'))}"
    composed["tags"] = [service]
    roles = ", ".join(sorted(r.value for r in route.roles))
    audited = " Personal data: every read is audited (send `X-Purpose`)." if route.personal_data else ""
    composed["description"] = f"{operation.get('description', '')}\n\nRoles: {roles}.{audited}".strip()
    for status, what in _UPSTREAM.items():
        composed.setdefault("responses", {})[status] = {
            "description": what,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return composed


def compose(services: dict[str, dict[str, Any]], gateway: dict[str, Any]) -> dict[str, Any]:
    """The gateway's document from the services' documents and the gateway's own."""
    names = _schema_names({**services, "gateway": gateway})
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for service, document in {**services, "gateway": gateway}.items():
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            renamed = _renamed_refs(schema, names[service])
            if names[service][name] != name:
                # generators name a model after its title: two services' `MemberIn` would be one class
                renamed["title"] = names[service][name]
            schemas[names[service][name]] = renamed
    for route in ROUTES:
        if route.service == "gateway":
            continue
        operation = services[route.service]["paths"][route.path][route.method.lower()]
        paths.setdefault("/api" + route.path, {})[route.method.lower()] = _operation(
            route.service, route, operation, names[route.service]
        )
    for path, operations in gateway["paths"].items():
        for method, operation in operations.items():
            composed = _renamed_refs(operation, names["gateway"])
            source = composed.pop(_ANSWER_OF, None)
            if source is not None:
                answer = services[source["service"]]["paths"][source["path"]]["get"]["responses"]["200"]
                composed["responses"]["200"] = _renamed_refs(answer, names[source["service"]])
            paths.setdefault(path, {})[method] = composed
    return {
        "openapi": gateway["openapi"],
        "info": gateway["info"],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(schemas.items()))},
        "tags": [{"name": name} for name in ("views", "audit", *SERVICE_APPS, "health", "auth")],
    }


@contextlib.contextmanager
def _unconnected_environment() -> Iterator[None]:
    """Apps are built (never started) with a placeholder database and key-encryption key (so no
    development key file is created), and the environment of the calling process (a test session)
    is left as it was."""
    placeholders = {"DATABASE_URL": "postgresql://unused@localhost/unused", "PRIVACY_KEK": "A" * 43 + "="}
    before = {name: os.environ.get(name) for name in placeholders}
    for name, value in placeholders.items():
        os.environ.setdefault(name, value)
    try:
        yield
    finally:
        for name, earlier in before.items():
            if earlier is None:
                os.environ.pop(name, None)


def service_documents() -> dict[str, dict[str, Any]]:
    """Each service's OpenAPI document, from its app (built, never started: nothing connects)."""
    import importlib

    documents = {}
    with _unconnected_environment():
        for service, module in SERVICE_APPS.items():
            app = importlib.import_module(module).create_app()
            documents[service] = app.openapi()
    return documents


def render() -> dict[str, Any]:
    """The document as the services and the gateway declare it now."""
    from icam_gateway.app import create_app

    with _unconnected_environment():
        own: dict[str, Any] = create_app().state.own_openapi()
    return compose(service_documents(), own)


def committed() -> dict[str, Any] | None:
    """The committed document (shipped with the gateway), or None before the first render."""
    source = resources.files("icam_gateway") / COMMITTED
    return json.loads(source.read_text()) if source.is_file() else None


def text_of(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def main() -> None:
    path = Path(str(resources.files("icam_gateway") / COMMITTED))
    path.write_text(text_of(render()))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
