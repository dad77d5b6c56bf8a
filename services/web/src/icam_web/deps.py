"""Who is asking, in FastAPI dependencies: the signed-in session (else back to sign-in, then back
here), the roles a screen is for, and the CSRF check of every form and htmx request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from starlette.datastructures import FormData

from icam_auth import Role
from icam_web import csrf
from icam_web.sessions import Session, SessionStore

SESSION_COOKIE = "icam_session"


class SignInRequired(Exception):
    """No live session: sign in, then come back to `next_page`."""

    def __init__(self, next_page: str) -> None:
        super().__init__("sign in required")
        self.next_page = next_page


class NotForYou(Exception):
    """The screen is for other roles (403 page)."""


class CsrfRefused(Exception):
    """A POST without the session's CSRF token (403 page)."""


def store(request: Request) -> SessionStore:
    found: SessionStore = request.app.state.sessions
    return found


def local_path(url: str | None, fallback: str = "/") -> str:
    """Only a path of our own site (never an absolute URL elsewhere): no open redirect."""
    if not url:
        return fallback
    parts = urlsplit(url)
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//"):
        return fallback
    return path + (f"?{parts.query}" if parts.query else "")


async def return_page(request: Request) -> str:
    """Where to come back to after signing in: this page, or for a form post the form's page (its
    draft is kept in the browser and restored there)."""
    if request.method == "GET":
        return local_path(str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""))
    if request.headers.get("content-type", "").startswith("multipart/"):
        return local_path(request.headers.get("referer"))  # an upload: not parsed here (uploads.py)
    form = await request.form()
    page = form.get("form_page")
    return local_path(page if isinstance(page, str) else request.headers.get("referer"))


async def signed_in(request: Request) -> Session:
    session = await store(request).load(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise SignInRequired(await return_page(request))
    request.state.session = session
    return session


SignedIn = Annotated[Session, Depends(signed_in)]


def role_in(*roles: Role) -> Callable[[Session], Awaitable[Session]]:
    async def check(session: SignedIn) -> Session:
        if session.role not in roles:
            raise NotForYou()
        return session

    return check


async def checked_form(request: Request, session: SignedIn) -> FormData:
    """The posted form, once its CSRF token (field or `X-CSRF-Token` header) matches the session's."""
    form = await request.form()
    token = form.get(csrf.FIELD)
    presented = token if isinstance(token, str) else request.headers.get(csrf.HEADER)
    if not csrf.matches(session.csrf_token, presented):
        raise CsrfRefused()
    return form


Form = Annotated[FormData, Depends(checked_form)]
COACHING = (Role.COACH, Role.TEAM_LEAD, Role.ADMIN)
Coaching = Annotated[Session, Depends(role_in(*COACHING))]
TeamLead = Annotated[Session, Depends(role_in(Role.TEAM_LEAD, Role.ADMIN))]
Partner = Annotated[Session, Depends(role_in(Role.RETURN_PARTNER))]
Operations = Annotated[Session, Depends(role_in(Role.OPS_VIEWER, Role.TEAM_LEAD, Role.ADMIN))]
Auditor = Annotated[Session, Depends(role_in(Role.AUDITOR))]
