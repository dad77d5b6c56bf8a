"""FastAPI helpers: every error as an RFC 9457 problem response, health and metrics routes.

`install_problem_handlers(app)` is the one mapper from errors to problem+json, used by every
service (through `create_service_app`) and by the gateway: domain refusals (the one root in
`icam_kernel.errors`), validation (naming the field, and the line and column of malformed JSON),
concurrent changes, stale read models, authentication and authorisation, unknown routes, and any
other failure as a 500 without its text.

A problem never repeats personal data: validation problems name each field and its rule, never
the value sent (FastAPI's `input` is dropped, and a rule that quotes the value has it masked); a
detail's e-mail addresses and phone numbers are masked; a 5xx never carries an exception's text.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import asyncpg
import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from icam_kernel.errors import DatabaseUnavailable, DomainError, StaleReadModel
from icam_kernel.failures import describe, is_transient
from icam_kernel.keyring import KeyringUnavailable
from icam_kernel.problems import HTTP_KINDS
from icam_kernel.redaction import access_path, describe_error, field_rules, scrub
from icam_kernel.store import WrongExpectedVersion

log = structlog.get_logger(__name__)

PROBLEM = "application/problem+json"
HealthCheck = Callable[[], Awaitable[bool]]
LiveCheck = Callable[[], list[str]]  # what is broken beyond repair in this process (empty: live)
log = structlog.get_logger(__name__)


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
    headers = dict(headers or {})
    if status in (503, 504):
        headers.setdefault("Retry-After", "5")
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def line_and_column(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of character `position` in `text`."""
    before = text[:position]
    return before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1


def _field_errors(error: RequestValidationError) -> list[dict[str, Any]]:
    """The failing fields and their rules, without the values sent (they may be personal data)."""
    invalid = [e for e in error.errors() if e.get("type") != "json_invalid"]
    return [{"field": field, "message": rule} for field, rule in field_rules(invalid)]


async def _validation(_: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    broken = next((e for e in error.errors() if e.get("type") == "json_invalid"), None)
    if broken is not None:
        body = error.body if isinstance(error.body, str) else str(error.body or "")
        position = next((p for p in broken["loc"] if isinstance(p, int)), 0)
        line, column = line_and_column(body, position)
        reason = scrub(str((broken.get("ctx") or {}).get("error", "invalid JSON")))
        return problem(
            422,
            "Malformed JSON",
            f"the body is not valid JSON: {reason} at line {line}, column {column}",
            kind="malformed-json",
            line=line,
            column=column,
        )
    fields = _field_errors(error)
    names = ", ".join(f["field"] for f in fields)
    first = fields[0]["field"] if fields else None
    return problem(
        422, "Invalid request", f"invalid fields: {names}", kind="validation", field=first, errors=fields
    )


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


async def _domain(_: Request, error: Exception) -> Response:
    assert isinstance(error, DomainError)
    return problem(error.status, error.title, scrub(str(error)), kind=error.code, extensions=error.details)


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


async def _no_keys(_: Request, error: Exception) -> Response:
    """Nothing personal is stored in clear or shown sealed when keys cannot be had: retry later."""
    return problem(
        503,
        "Key custodian unavailable",
        "personal data cannot be sealed or opened right now",
        kind="key-custodian-unavailable",
        headers={"Retry-After": "2"},
    )


async def _http_error(_: Request, error: Exception) -> Response:
    """401/403 from authentication and authorisation, unknown routes and methods."""
    assert isinstance(error, StarletteHTTPException)
    kind, title = HTTP_KINDS.get(error.status_code, ("http-error", "Request refused"))
    return problem(error.status_code, title, str(error.detail), kind=kind, headers=error.headers)


async def _infrastructure(request: Request, error: Exception) -> Response:
    """A database outage met by a read (or escaping a command) is a 503 to retry; any other
    failure of the infrastructure a 500 — neither says more than its type in the log."""
    fields = describe(error)
    log.error("request_failed", path=access_path(request.url.path), **fields)
    if is_transient(error):
        unavailable = DatabaseUnavailable()
        return problem(503, unavailable.title, str(unavailable), kind=unavailable.code)
    return problem(500, "Internal error", "the service failed; the error is logged", kind="internal-error")


async def _internal(request: Request, error: Exception) -> Response:
    """Any other failure: a 500 naming the request, never the exception's text (the log has it,
    redacted, under the same request id)."""
    request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
    log.error(
        "request_failed",
        request_id=request_id,
        path=access_path(request.url.path),
        error=describe_error(error),
    )
    return problem(
        500,
        "Internal error",
        "the request could not be completed; it is logged under its request id",
        kind="internal-error",
        request_id=request_id,
    )


def install_problem_handlers(app: FastAPI) -> None:
    """422 naming the field (or the line and column of malformed JSON), 409 with the current
    version, every domain refusal, 503 Retry-After (also for a database outage), 401/403/404/405,
    and a 500 without the exception's text — all problem+json."""
    app.add_exception_handler(Exception, _internal)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(WrongExpectedVersion, _wrong_version)
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(StaleReadModel, _stale)
    for infrastructure in (asyncpg.PostgresError, asyncpg.InterfaceError, ConnectionError):
        app.add_exception_handler(infrastructure, _infrastructure)
    app.add_exception_handler(KeyringUnavailable, _no_keys)


def health_router(
    checks: Mapping[str, HealthCheck], timeout: float = 2.0, *, broken: LiveCheck | None = None
) -> APIRouter:
    """`/health/live` (the process answers, and `broken()` names nothing: no worker in a crash
    loop), `/health/ready` (every check passes), `/metrics`."""
    router = APIRouter(tags=["operations"])

    @router.get("/health/live")
    async def live() -> Response:
        failing = broken() if broken else []
        if failing:
            return JSONResponse({"status": "crash-loop", "workers": failing}, status_code=503)
        return JSONResponse({"status": "ok"})

    @router.get("/health/ready")
    async def ready() -> Response:
        results = await asyncio.gather(*(_run_check(c, timeout) for c in checks.values()))
        status = dict(zip(checks, results, strict=True))
        healthy = all(results)
        body = {"status": "ok" if healthy else "unavailable", "checks": status}
        return JSONResponse(body, status_code=200 if healthy else 503)

    @router.get(
        "/metrics",
        response_class=PlainTextResponse,
        responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}, "description": "Prometheus"}},
    )
    async def metrics() -> Response:
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


async def _run_check(check: HealthCheck, timeout: float) -> bool:
    try:
        return await asyncio.wait_for(check(), timeout)
    except Exception:
        return False
