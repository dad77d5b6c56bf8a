"""Composition root of the gateway: `uvicorn --factory icam_gateway.app:create_app`."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from icam_auth.fastapi import install_verifier
from icam_gateway import api, audit, openapi_document, policy, proxy
from icam_gateway.config import GatewaySettings
from icam_gateway.runtime import Runtime
from icam_kernel import tracing
from icam_kernel.guard import Limits, RequestGuard
from icam_kernel.http import install_problem_handlers, problem
from icam_kernel.observability import configure_logging
from icam_kernel.openapi import document_problems

DESCRIPTION = """The only HTTP entry point for ICAM coach UIs and dashboards.

Authenticate with an OIDC bearer token (RS256; locally: `uv run icam token --role coach --region
brussels --sub coach-17`). Every read of personal data is written to the audit log; send an
`X-Purpose` header to say why. A read that reaches a service directly is audited by that service;
`GET /api/audit` lists both doors. Errors are `application/problem+json` (RFC 9457) and never
repeat the values sent.
"""


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging()
        pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=10)
        assert pool is not None
        await audit.migrate(pool)
        timeout = httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout)
        # keep idle connections shorter than uvicorn's 5 s keep-alive: reusing one the service is
        # closing at that very moment fails the request (a spurious 503)
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50, keepalive_expiry=4.0)
        async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
            app.state.runtime = Runtime(settings, pool, client)
            yield
        await pool.close()

    tracing.configure("gateway")  # nothing unless an OTLP endpoint is given (ADR 0016)
    app = FastAPI(title="ICAM gateway", version="0.2.0", description=DESCRIPTION, lifespan=lifespan)
    tracing.instrument_app(app)  # the calls to the services carry the request's traceparent (httpx)
    install_verifier(app)
    # documents arrive up to 20 MiB; every other body stays within the 1 MiB limit
    documents = (
        r"/api/cases/[^/]+/documents",
        int(os.environ.get("GATEWAY_MAX_DOCUMENT_BYTES", 20 * 1024 * 1024)),
    )
    app.add_middleware(RequestGuard, limits=Limits.from_env(large_bodies=[documents]))
    app.include_router(api.router)
    app.include_router(api.forwarding)
    _add_platform_routes(app, settings)
    install_problem_handlers(app)
    _add_error_handlers(app)
    document_problems(app)
    _serve_composed_document(app)
    return app


def _serve_composed_document(app: FastAPI) -> None:
    """`/openapi.json` is every operation the gateway serves (services' and its own), composed
    from the route table and committed (`openapi_document`); the gateway's own part stays at
    `app.state.own_openapi` for the composition."""
    own = app.openapi
    app.state.own_openapi = own
    app.openapi = lambda: openapi_document.committed() or own()  # type: ignore[method-assign]


def _add_platform_routes(app: FastAPI, settings: GatewaySettings) -> None:
    @app.get("/health/live", tags=["health"])
    async def live() -> dict[str, str]:
        return {"status": "live"}

    @app.get("/health/ready", tags=["health"])
    async def ready(request: Request) -> Response:
        try:
            await request.app.state.runtime.pool.fetchval("select 1")
        except Exception as exc:
            return problem(
                503, "Not ready", f"audit database unavailable ({type(exc).__name__})", kind="not-ready"
            )
        return JSONResponse({"status": "ready"})

    @app.get("/health/services", tags=["health"], summary="Readiness of every upstream service")
    async def services(request: Request) -> dict[str, str]:
        rt: Runtime = request.app.state.runtime
        report = {}
        for name, url in settings.service_urls.items():
            try:
                answer = await rt.client.get(f"{url}/health/ready")
                report[name] = "ready" if answer.status_code == 200 else f"not ready ({answer.status_code})"
            except httpx.HTTPError:
                report[name] = "unavailable"
        return report

    jwks_document: dict[str, Any] = {}
    if settings.jwks_file and not settings.jwks_file.startswith("http"):
        jwks_document = json.loads(Path(settings.jwks_file).read_text())

    @app.get("/.well-known/jwks.json", tags=["auth"], summary="Public keys of the local token issuer")
    async def jwks() -> dict[str, Any]:
        if not jwks_document:
            raise HTTPException(404, "this gateway does not serve a local issuer's keys")
        return jwks_document


def _add_error_handlers(app: FastAPI) -> None:
    """The gateway's own refusals, beside the kernel's mapper (every error is problem+json)."""

    @app.exception_handler(policy.NotAllowed)
    async def not_allowed(_: Request, exc: policy.NotAllowed) -> Response:
        return problem(403, "Forbidden", str(exc), kind="forbidden")

    @app.exception_handler(policy.NoSuchRoute)
    async def no_route(request: Request, _: policy.NoSuchRoute) -> Response:
        # the path is not repeated: a client may have put anything in it
        detail = f"the gateway has no {request.method} route at this path"
        return problem(404, "Not found", detail, kind="not-found")

    @app.exception_handler(proxy.UpstreamError)
    async def upstream(_: Request, exc: proxy.UpstreamError) -> Response:
        return exc.response
