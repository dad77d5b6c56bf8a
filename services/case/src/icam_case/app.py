"""Composition root: `create_app(settings)` builds the case service; nothing connects before startup.

Run: `python -m uvicorn --factory icam_case.app:create_app --port 8102`.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from icam_auth import AuthSettings, TokenVerifier
from icam_auth.fastapi import install_verifier
from icam_case.api import build_router
from icam_case.config import CaseSettings
from icam_case.domain.errors import CaseError
from icam_case.service import CaseService
from icam_kernel.http import problem
from icam_kernel.service import create_service_app

DESCRIPTION = """The ICAM trajectory of a person or household, from first contact to closure.

Commands answer with the case's stream version and the position to pass as `min_position` to
queries (read-your-writes). Errors are `application/problem+json`: 422 names the field, 409 carries
the case's status and version, 404 unknown ids, 401/403 authentication and authorisation.
"""


def create_app(settings: CaseSettings | None = None, auth: AuthSettings | None = None) -> FastAPI:
    """The case service's ASGI app; settings and auth default to the environment."""
    settings = settings or CaseSettings.from_env()
    service = CaseService(settings)
    verifier = TokenVerifier(auth or AuthSettings.from_env())
    app = create_service_app(
        service.runtime,
        routers=[build_router(service, verifier)],
        description=DESCRIPTION,
        version="0.1.0",
    )
    app.state.case_service = service
    install_verifier(app, verifier)  # the library's dependencies (`roles`) check with the same keys
    app.add_exception_handler(CaseError, _case_error)
    app.add_exception_handler(HTTPException, _http_error)
    return app


async def _case_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, CaseError)
    return problem(
        error.status, "Refused by a case rule", str(error), kind=error.code, extensions=error.details
    )


async def _http_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    titles = {401: "Not authenticated", 403: "Forbidden", 404: "Not found", 405: "Method not allowed"}
    return problem(
        error.status_code,
        titles.get(error.status_code, "HTTP error"),
        str(error.detail),
        kind=f"http-{error.status_code}",
        headers=error.headers,
    )
