"""Today's agenda of a coach: their interviews, the region's offices by time, and on Wednesday
mornings the walk-in desk. Refreshes itself (htmx) so nobody reloads by hand."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from icam_web import forms, pages
from icam_web.actions import banner, gateway
from icam_web.deps import Coaching
from icam_web.gateway import optional
from icam_web.sessions import Session

router = APIRouter()
PURPOSE = "daily agenda"
TASKS = 50


async def cases_by_household(request: Request, session: Session, **filters: Any) -> dict[str, str]:
    """household id -> case id, from the caller's caseload (to link agenda rows to case files)."""
    page, _ = await optional(
        gateway(request).get(session, "/api/views/caseload", PURPOSE, limit=200, **filters)
    )
    return {c["household_id"]: c["case_id"] for c in (page or {}).get("items", [])}


def desks_of(request: Request, region: str | None, day: date) -> list[Any]:
    reference = request.app.state.reference
    offices = {o.code: o for o in reference.offices}
    return [d for d in reference.desks if offices[d.office].region == region and d.weekday == day.weekday()]


async def agenda_of(request: Request, session: Session, day: date) -> dict[str, Any]:
    """One round of parallel reads: the coach's slots, each office's agenda, each desk's visits and the
    caseload that links rows to case files."""
    gw = gateway(request)
    offices = request.app.state.reference.offices_in(session.region or "")
    desks = desks_of(request, session.region, day)
    on = day.isoformat()
    mine, cases, tasks, *rest = await asyncio.gather(
        optional(gw.get(session, f"/api/agenda/coaches/{session.subject}", PURPOSE, day=on)),
        cases_by_household(request, session, coach=session.subject),
        optional(tasks_of(request, session)),
        *(optional(gw.get(session, f"/api/agenda/offices/{o.code}", PURPOSE, day=on)) for o in offices),
        *(optional(gw.get(session, f"/api/desks/{d.code}/visits", PURPOSE, day=on)) for d in desks),
    )
    office_pages, visits = rest[: len(offices)], rest[len(offices) :]
    return {
        "day": day,
        "previous": day - timedelta(days=1),
        "following": day + timedelta(days=1),
        "mine": (mine[0] or {}).get("items", []),
        "mine_missing": mine[1],
        "offices": [
            (o, (p[0] or {}).get("items", []), p[1]) for o, p in zip(offices, office_pages, strict=True)
        ],
        "desks": [(d, (v[0] or {}).get("total", 0)) for d, v in zip(desks, visits, strict=True)],
        "cases": cases,
        "tasks": tasks[0] or {"items": [], "total": 0},
        "tasks_missing": tasks[1],
    }


async def tasks_of(request: Request, session: Session) -> dict[str, Any]:
    """The caller's own to-do list, the most overdue first (the case service derives it)."""
    page: dict[str, Any] = await gateway(request).get(
        session, "/api/tasks", "coach tasks", coach=session.subject, for_team_lead="false", limit=TASKS
    )
    return page


@router.get("/agenda")
async def agenda(request: Request, session: Coaching, day: str | None = None) -> Response:
    chosen = forms.day_of(day, datetime.now(UTC))
    context = await agenda_of(request, session, chosen)
    template = "_agenda.html" if request.headers.get("hx-request") == "true" else "agenda.html"
    return pages.render(request, template, session, **context, **banner(request))
