"""Signing in (OpenID Connect code + PKCE), out, and choosing the interface language."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from icam_web import i18n, pages
from icam_web.deps import SESSION_COOKIE, Form, SignedIn, local_path, store
from icam_web.oidc import Attempt, OidcClient, SignInFailed
from icam_web.sessions import SignIn

router = APIRouter()
YEAR = 365 * 24 * 3600


def secure(request: Request) -> bool:
    """Secure cookies behind TLS: configured, or seen from the scheme / X-Forwarded-Proto."""
    setting = request.app.state.settings.secure_cookies
    if setting in ("true", "false"):
        return bool(setting == "true")
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
    return request.url.scheme == "https" or forwarded == "https"


def oidc(request: Request) -> OidcClient:
    client: OidcClient = request.app.state.oidc
    return client


@router.get("/sign-in", include_in_schema=False)
async def sign_in(request: Request, next: str = "/") -> Response:
    attempt = Attempt.new()
    await store(request).begin_sign_in(
        attempt.state, SignIn(attempt.verifier, attempt.nonce, local_path(next))
    )
    return RedirectResponse(await oidc(request).authorize_url(attempt), status_code=303)


@router.get("/auth/callback", include_in_schema=False)
async def callback(request: Request, state: str = "", code: str = "", error: str = "") -> Response:
    attempt = await store(request).finish_sign_in(state) if state else None
    if error or attempt is None or not code:
        return pages.render(request, "signed_out.html", None, status=400, failed=True)
    try:
        tokens = await oidc(request).exchange(code, attempt.verifier, attempt.nonce)
    except SignInFailed:
        return pages.render(request, "signed_out.html", None, status=400, failed=True)
    cookie = await store(request).create(tokens.claims, tokens.access_token, tokens.expires_in)
    target = attempt.next_page if attempt.next_page != "/" else pages.home_of_claims(tokens.claims)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, cookie, httponly=True, samesite="lax", secure=secure(request), path="/"
    )
    preferred = await store(request).language_of(str(tokens.claims["sub"]))
    if preferred:
        _remember_language(request, response, preferred)
    return response


@router.post("/sign-out", include_in_schema=False)
async def sign_out(request: Request, session: SignedIn, form: Form) -> Response:
    await store(request).end(request.cookies.get(SESSION_COOKIE))
    response = pages.render(request, "signed_out.html", None, failed=False)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/language", include_in_schema=False)
async def choose_language(request: Request, session: SignedIn, form: Form) -> Response:
    code = str(form.get("language", ""))
    target = local_path(str(form.get("form_page") or "/"))
    response = RedirectResponse(target, status_code=303)
    if code in i18n.LANGUAGES:
        await store(request).prefer(session.subject, code)
        _remember_language(request, response, code)
    return response


def _remember_language(request: Request, response: Response, code: str) -> None:
    response.set_cookie(
        pages.LANGUAGE_COOKIE, code, max_age=YEAR, samesite="lax", secure=secure(request), path="/"
    )


@router.get("/", include_in_schema=False)
async def home(session: SignedIn) -> Response:
    return RedirectResponse(pages.home_of(session.role), status_code=303)
