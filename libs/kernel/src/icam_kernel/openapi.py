"""Every operation's OpenAPI lists the problem responses it can give, as application/problem+json.

FastAPI documents only a 422 with its own body shape; the services answer every error as a
problem (`icam_kernel.http`), so the document says so: 400/401/403/404/422 for every operation,
409/413 for commands, 503 for queries that wait for a position.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from icam_kernel.problems import HTTP_KINDS

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `type` is `urn:icam:problem:<kind>` (docs/problems.md).",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:icam:problem:validation"]},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "field": {"type": ["string", "null"], "description": "The request field at fault, if any."},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}
_TITLES = {
    400: "Unreadable request (path, headers)",
    401: "No valid bearer token",
    403: "Role, region or organisation does not allow it",
    404: "Unknown resource or route",
    409: "Conflicts with the current state, or a concurrent change",
    413: "Body over the limit",
    422: "Invalid input: `field` names it",
    503: "Not yet up to date (read-your-writes): retry",
}
QUERY = (400, 401, 403, 404, 422)
COMMAND = (400, 401, 403, 404, 409, 413, 422)


def binary_content(*media_types: str) -> dict[str, Any]:
    """The `content` of a body or response that is the file itself (a PDF, an image): each media type
    with the schema of raw bytes, so that a client generator types it as a file rather than skip it."""
    return {media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in media_types}


def _problem_response(status: int) -> dict[str, Any]:
    return {
        "description": _TITLES.get(status, HTTP_KINDS.get(status, ("", "Problem"))[1]),
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def with_problems(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with the Problem schema and every operation's problem responses."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if path.startswith(("/health", "/metrics")):
                continue
            statuses = list(COMMAND if method in ("post", "put", "patch", "delete") else QUERY)
            names = {p.get("name") for p in operation.get("parameters", [])}
            if "min_position" in names:
                statuses.append(503)
            responses = operation.setdefault("responses", {})
            for status in statuses:
                responses[str(status)] = _problem_response(status)
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    return document


def document_problems(app: FastAPI) -> None:
    """Make `app.openapi()` return the document with problem responses (built once)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            app.openapi_schema = with_problems(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
