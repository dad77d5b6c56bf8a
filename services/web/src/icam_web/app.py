"""Composition root of the web workspace: `uvicorn --factory icam_web.app:create_app`."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from urllib.parse import urlencode

import asyncpg
import httpx
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from icam_contracts.reference import load_reference_data
from icam_web import assets, pages
from icam_web.config import WebSettings
from icam_web.deps import SESSION_COOKIE, CsrfRefused, NotForYou, SignInRequired, return_page, store
from icam_web.gateway import Gateway, GatewayProblem, TokenExpired
from icam_web.oidc import OidcClient
from icam_web.routes import ROUTERS
from icam_web.sessions import SessionStore

log = structlog.get_logger("icam.web")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self';"
    " script-src 'self'; object-src 'self'; frame-src 'self'; frame-ancestors 'self';"
    " form-action 'self' {issuer}",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=10)
        assert pool is not None
        sessions = SessionStore(pool, timedelta(minutes=settings.session_idle_minutes))
        await sessions.migrate()
        absent = assets.missing(settings.assets_dir)
        if absent:
            log.warning("web_assets_missing", files=absent, hint="npm ci && npm run build in services/web")
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=4.0)
        async with httpx.AsyncClient(timeout=settings.gateway_timeout, limits=limits) as client:
            app.state.sessions = sessions
            app.state.http = client
            app.state.gateway = Gateway(client, settings.gateway_url)
            app.state.oidc = OidcClient(settings, client)
            yield
        await pool.close()

    app = FastAPI(title="ICAM workspace", version="0.1.0", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.settings = settings
    app.state.templates = pages.environment()
    app.state.reference = load_reference_data()
    app.include_router(assets.router(settings.assets_dir))
    for router in ROUTERS:
        app.include_router(router)
    _add_health(app)
    _add_error_pages(app)
    _add_security_headers(app, settings)
    return app


def _add_health(app: FastAPI) -> None:
    @app.get("/health/live", include_in_schema=False)
    async def live() -> dict[str, str]:
        return {"status": "live"}

    @app.get("/health/ready", include_in_schema=False)
    async def ready(request: Request) -> Response:
        try:
            await request.app.state.sessions.pool.fetchval("select 1")
        except (OSError, asyncpg.PostgresError):
            return JSONResponse({"status": "session database unavailable"}, status_code=503)
        return JSONResponse({"status": "ready"})


def _to_sign_in(request: Request, next_page: str) -> Response:
    target = "/sign-in?" + urlencode({"next": next_page})
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _add_error_pages(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: SignInRequired) -> Response:
        return _to_sign_in(request, exc.next_page)

    @app.exception_handler(TokenExpired)
    async def expired(request: Request, exc: TokenExpired) -> Response:
        await store(request).end(request.cookies.get(SESSION_COOKIE))
        return _to_sign_in(request, await return_page(request))

    @app.exception_handler(NotForYou)
    async def not_for_you(request: Request, exc: NotForYou) -> Response:
        return pages.render(request, "error.html", _session(request), status=403, kind="forbidden")

    @app.exception_handler(CsrfRefused)
    async def csrf(request: Request, exc: CsrfRefused) -> Response:
        return pages.render(request, "error.html", _session(request), status=403, kind="csrf")

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        # the route template, never the URL: ids in a path are not for the logs
        route = getattr(request.scope.get("route"), "path", "?")
        log.error("web_page_failed", route=route, error=type(exc).__name__)
        return pages.render(request, "error.html", _session(request), status=500, kind="error")

    @app.exception_handler(GatewayProblem)
    async def problem(request: Request, exc: GatewayProblem) -> Response:
        kind = {403: "forbidden", 404: "not_found"}.get(
            exc.status, "unavailable" if exc.status >= 500 else "error"
        )
        status = exc.status if exc.status in (403, 404, 409, 503, 504) else 502 if exc.status >= 500 else 400
        return pages.render(request, "error.html", _session(request), status=status, kind=kind)


def _session(request: Request):  # type: ignore[no-untyped-def]
    return getattr(request.state, "session", None)


def _add_security_headers(app: FastAPI, settings: WebSettings) -> None:
    headers = {k: v.format(issuer=settings.oidc_issuer) for k, v in SECURITY_HEADERS.items()}

    @app.middleware("http")
    async def secure(request: Request, call_next):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        response: Response = await call_next(request)
        # the page's server time, gateway calls included (bench/web reads it)
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith("/static/") is False:
            response.headers.setdefault("Cache-Control", "no-store")
        return response
