"""The caseload: filters (status, next interview due, flags), search by name or dossier reference
(in any script: the case service compares lowercase Latin letters), a dense table that refreshes
itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from icam_auth import Role
from icam_web import pages
from icam_web.actions import banner, gateway, go, min_position
from icam_web.deps import Coaching
from icam_web.i18n import BRUSSELS
from icam_web.sessions import Session

router = APIRouter()
PAGE = 50
MIN_QUERY = 2  # the gateway's shortest search
FLAGS = (
    "vulnerable",
    "minors",
    "contact_lost",
    "contact_problem",
    "outcome_reopened",
    "elements_outstanding",
    "referral_stalled",
    "approval_pending",
)


def due_before(due: str, now: datetime) -> str | None:
    """`overdue`, `today`, `week` as the caseload's `due_before` bound."""
    local = now.astimezone(BRUSSELS)
    end_of_day = local.replace(hour=23, minute=59, second=59, microsecond=0)
    bounds = {"overdue": now, "today": end_of_day, "week": end_of_day + timedelta(days=7)}
    bound = bounds.get(due)
    return bound.isoformat() if bound else None


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
    htmx = request.headers.get("hx-request") == "true"
    too_short = 0 < len(chosen["q"]) < MIN_QUERY
    # the composed view is a coach's own caseload; the region's is the case service's caseload
    path = "/api/views/caseload" if chosen["scope"] == "mine" else "/api/caseload"
    page = await gateway(request).get(
        session,
        path,
        "search the caseload" if chosen["q"] else "coach caseload review",
        coach=session.subject if chosen["scope"] == "mine" else None,
        status=chosen["status"],
        flag=chosen["flag"],
        due_before=due_before(chosen["due"], datetime.now(UTC)),
        q=None if too_short else chosen["q"],
        limit=PAGE,
        offset=chosen["offset"],
        min_position=min_position(request),
    )
    if chosen["q"] and not too_short and page["total"] == 1 and not htmx:
        return go(f"/cases/{page['items'][0]['case_id']}")  # a reference or a name that names one case
    context = {"page": page, "filters": chosen, "flags": FLAGS, "too_short": too_short, "page_size": PAGE}
    template = "_caseload_table.html" if htmx else "caseload.html"
    return pages.render(request, template, session, **context, **banner(request))
