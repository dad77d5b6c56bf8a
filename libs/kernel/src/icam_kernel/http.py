"""FastAPI helpers: RFC 9457 problem responses for the kernel's errors, health and metrics routes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from icam_kernel.errors import DomainRuleViolation, NotFound, StaleReadModel
from icam_kernel.store import WrongExpectedVersion

PROBLEM = "application/problem+json"
HealthCheck = Callable[[], Awaitable[bool]]


# RFC 9457 members an extension may not overwrite; `problem` renames such keys with this prefix
RESERVED_MEMBERS = frozenset({"type", "title", "status", "detail", "instance"})
RESERVED_PREFIX = "ext_"


def problem(
    status: int,
    title: str,
    detail: str,
    /,
    *,
    kind: str,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response; `kind` becomes the `type` URI (`urn:icam:problem:<kind>`).

    Extension members come from `extensions` (pass a rule's details there: any key is safe) and
    from keyword arguments. One named like a standard member (`type`, `title`, `status`, `detail`,
    `instance`) is kept under `ext_<name>` (`{"status": "closed"}` → `"ext_status": "closed"`).
    """
    body: dict[str, Any] = {
        "type": f"urn:icam:problem:{kind}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    for key, value in {**(extensions or {}), **extra}.items():
        name = key
        if key in RESERVED_MEMBERS:
            name = RESERVED_PREFIX + key
            while name in body or name in extra or (extensions and name in extensions):
                name = RESERVED_PREFIX + name
        body[name] = value
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=dict(headers or {}))


async def _validation(_: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    fields = [
        {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "message": e["msg"]}
        for e in error.errors()
    ]
    names = ", ".join(f["field"] for f in fields)
    return problem(422, "Invalid request", f"invalid fields: {names}", kind="validation", errors=fields)


async def _wrong_version(_: Request, error: Exception) -> Response:
    assert isinstance(error, WrongExpectedVersion)
    return problem(
        409,
        "Concurrent change",
        str(error),
        kind="wrong-expected-version",
        stream_id=error.stream_id,
        current_version=error.actual,
    )


async def _not_found(_: Request, error: Exception) -> Response:
    return problem(404, "Not found", str(error), kind="not-found")


async def _domain_rule(_: Request, error: Exception) -> Response:
    assert isinstance(error, DomainRuleViolation)
    return problem(
        error.status, "Refused by a business rule", str(error), kind=error.code, extensions=error.details
    )


async def _stale(_: Request, error: Exception) -> Response:
    assert isinstance(error, StaleReadModel)
    return problem(
        503,
        "Read model not yet up to date",
        str(error),
        kind="stale-read-model",
        headers={"Retry-After": "1"},
        projection=error.projection,
        wanted_position=error.wanted,
        current_position=error.current,
    )


_HTTP_TITLES = {401: "Unauthenticated", 403: "Forbidden", 404: "Not found", 405: "Method not allowed"}


async def _http_error(_: Request, error: Exception) -> Response:
    """401/403 from authentication and authorisation, unknown routes: problem+json like the rest."""
    assert isinstance(error, StarletteHTTPException)
    title = _HTTP_TITLES.get(error.status_code, "Error")
    kind = title.lower().replace(" ", "-")
    return problem(error.status_code, title, str(error.detail), kind=kind, headers=error.headers)


def install_problem_handlers(app: FastAPI) -> None:
    """422 naming the fields, 409 with the current version, 404, rule refusals, 503 Retry-After,
    and 401/403/404/405 raised as HTTP exceptions — every error is application/problem+json."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(WrongExpectedVersion, _wrong_version)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(DomainRuleViolation, _domain_rule)
    app.add_exception_handler(StaleReadModel, _stale)


def health_router(checks: Mapping[str, HealthCheck], timeout: float = 2.0) -> APIRouter:
    """`/health/live` (the process answers), `/health/ready` (every check passes), `/metrics`."""
    router = APIRouter(tags=["operations"])

    @router.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/health/ready")
    async def ready() -> Response:
        results = await asyncio.gather(*(_run_check(c, timeout) for c in checks.values()))
        status = dict(zip(checks, results, strict=True))
        healthy = all(results)
        body = {"status": "ok" if healthy else "unavailable", "checks": status}
        return JSONResponse(body, status_code=200 if healthy else 503)

    @router.get("/metrics")
    async def metrics() -> Response:
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


async def _run_check(check: HealthCheck, timeout: float) -> bool:
    try:
        return await asyncio.wait_for(check(), timeout)
    except Exception:
        return False
