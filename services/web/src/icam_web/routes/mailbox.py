"""The development mailbox in the workspace: every e-mail, SMS and PDF letter the local platform
sent, with its content, language and attachments. The page exists only where the web is told where
the mailbox is (`icam up` sets `ICAM_DEV_MAILBOX=1` and `ICAM_MAILBOX_URL`); in any other
deployment it answers 404, as if it were not there. The web reads the mailbox's JSON API."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import Response

from icam_web import pages
from icam_web.deps import SignedIn
from icam_web.files import passed_on
from icam_web.sessions import Session

router = APIRouter()
KINDS = ("email", "sms", "letter")
VIEWABLE = ("application/pdf", "image/png", "image/jpeg", "text/plain")


def _mailbox(request: Request) -> str | None:
    url: str | None = request.app.state.settings.mailbox_url
    return url


def _absent(request: Request, session: Session) -> Response:
    return pages.render(request, "error.html", session, status=404, kind="not_found")


async def _read(request: Request, path: str, **params: Any) -> httpx.Response | None:
    """The mailbox's answer, or None when it is not running (the page says so)."""
    client: httpx.AsyncClient = request.app.state.http
    try:
        return await client.get(f"{_mailbox(request)}{path}", params=params or None, timeout=5.0)
    except httpx.HTTPError:
        return None


@router.get("/dev/mailbox")
async def messages(request: Request, session: SignedIn) -> Response:
    if _mailbox(request) is None:
        return _absent(request, session)
    kind = request.query_params.get("kind")
    wanted = {"kind": kind} if kind in KINDS else {}
    answer = await _read(request, "/api/messages", limit=200, **wanted)
    listing = answer.json() if answer is not None and answer.status_code == 200 else None
    return pages.render(
        request, "mailbox.html", session, listing=listing, kind=wanted.get("kind"), kinds=KINDS
    )


@router.get("/dev/mailbox/{message_id}")
async def message(request: Request, message_id: int, session: SignedIn) -> Response:
    if _mailbox(request) is None:
        return _absent(request, session)
    answer = await _read(request, f"/api/messages/{message_id}")
    if answer is None or answer.status_code != 200:
        return _absent(request, session)
    return pages.render(request, "mailbox_message.html", session, message=answer.json())


@router.get("/dev/mailbox/{message_id}/attachments/{position}")
async def attachment(request: Request, message_id: int, position: int, session: SignedIn) -> Response:
    """The attachment (a letter's PDF) as the mailbox keeps it; shown inline when the browser can."""
    if _mailbox(request) is None:
        return _absent(request, session)
    answer = await _read(request, f"/api/messages/{message_id}/attachments/{position}")
    if answer is None or answer.status_code != 200:
        return _absent(request, session)
    return passed_on(answer, VIEWABLE)
