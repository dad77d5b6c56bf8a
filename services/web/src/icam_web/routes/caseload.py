"""The caseload: filters (status, next interview due, flags), search by dossier reference or case
id, a dense table that refreshes itself."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from icam_auth import Role
from icam_web import pages
from icam_web.actions import banner, gateway, go, min_position
from icam_web.deps import Coaching
from icam_web.gateway import optional
from icam_web.i18n import BRUSSELS
from icam_web.sessions import Session

router = APIRouter()
PAGE = 50
UUID = re.compile(r"^[0-9a-fA-F-]{36}$")
FLAGS = (
    "vulnerable",
    "minors",
    "contact_lost",
    "contact_problem",
    "outcome_reopened",
    "elements_outstanding",
    "referral_stalled",
)


def due_before(due: str, now: datetime) -> str | None:
    """`overdue`, `today`, `week` as the caseload's `due_before` bound."""
    local = now.astimezone(BRUSSELS)
    end_of_day = local.replace(hour=23, minute=59, second=59, microsecond=0)
    bounds = {"overdue": now, "today": end_of_day, "week": end_of_day + timedelta(days=7)}
    bound = bounds.get(due)
    return bound.isoformat() if bound else None


async def search(request: Request, session: Session, q: str) -> str | None:
    """The case a search names: a case id, or a dossier reference (through the messages sent to that
    person). Search by name needs the gateway (API-NEEDS.md)."""
    if UUID.match(q):
        return f"/cases/{q.lower()}"
    page, _ = await optional(
        gateway(request).get(session, "/api/notifications", "search the caseload", person_id=q, limit=1)
    )
    items = (page or {}).get("items", [])
    return f"/cases/{items[0]['case_id']}" if items and items[0].get("case_id") else None


def filters_of(request: Request, session: Session) -> dict[str, Any]:
    query = request.query_params
    default_scope = "mine" if session.role is Role.COACH else "region"
    return {
        "status": query.get("status", ""),
        "flag": query.get("flag", ""),
        "due": query.get("due", ""),
        "scope": query.get("scope", default_scope),
        "offset": max(0, int(query.get("offset", "0") or 0)),
        "q": query.get("q", "").strip(),
    }


@router.get("/cases")
async def caseload(request: Request, session: Coaching) -> Response:
    chosen = filters_of(request, session)
    not_found = False
    if chosen["q"]:
        target = await search(request, session, chosen["q"])
        if target:
            return go(target)
        not_found = True
    page = await gateway(request).get(
        session,
        "/api/views/caseload",
        "coach caseload review",
        coach=session.subject if chosen["scope"] == "mine" else None,
        status=chosen["status"],
        flag=chosen["flag"],
        due_before=due_before(chosen["due"], datetime.now(UTC)),
        limit=PAGE,
        offset=chosen["offset"],
        min_position=min_position(request),
    )
    context = {"page": page, "filters": chosen, "flags": FLAGS, "not_found": not_found, "page_size": PAGE}
    template = "_caseload_table.html" if request.headers.get("hx-request") == "true" else "caseload.html"
    return pages.render(request, template, session, **context, **banner(request))
