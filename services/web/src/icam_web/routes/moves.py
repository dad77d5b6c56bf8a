"""Moving many cases at once (team lead): hand a coach's cases to a colleague, or transfer cases to
another region's office. A reassignment is first asked without `confirm`: the receiving coach's
agenda clashes come back and are shown, and the team lead confirms to move anyway. The answer
lists what moved and what could not, with the reason."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from icam_web import pages
from icam_web.actions import again, command, gateway, text, values_of
from icam_web.deps import Form, TeamLead
from icam_web.routes.team import coaches_of, offices_of, regions_of
from icam_web.sessions import Session

router = APIRouter()
PURPOSE = "move cases"
FIELDS = ("case_ids", "to_coach", "to_region", "to_office", "reason")


async def movable(request: Request, session: Session, coach: str | None) -> dict[str, Any]:
    """The region's cases that are not closed (of one coach, if chosen), and the choices."""
    gw = gateway(request)
    page = await gw.get(session, "/api/views/caseload", PURPOSE, coach=coach, limit=200)
    cases = [c for c in page["items"] if c["status"] != "closed"]
    return {
        "cases": cases,
        "coach": coach or "",
        "coaches": await coaches_of(request, session),
        "regions": regions_of(request),
        "offices": offices_of(request),
    }


@router.get("/team/moves")
async def moves(request: Request, session: TeamLead, coach: str | None = None) -> Response:
    context = await movable(request, session, coach or None)
    return pages.render(request, "moves.html", session, values={}, problem=None, conflicts=[], **context)


def move_of(form: FormData) -> tuple[str, dict[str, Any]]:
    """The gateway's path and body for the chosen move."""
    body: dict[str, Any] = {"case_ids": [str(c) for c in form.getlist("case_ids") if str(c)]}
    if text(form, "action") == "transfer":
        body |= {"to_region": text(form, "to_region"), "to_office": text(form, "to_office")}
        reason = text(form, "reason")
        return "/api/moves/transfer", body | ({"reason": reason} if reason else {})
    body |= {"to_coach": text(form, "to_coach"), "confirm": text(form, "confirm") == "yes"}
    return "/api/moves/reassignment", body


@router.post("/team/moves")
async def move(request: Request, session: TeamLead, form: Form) -> Response:
    path, body = move_of(form)
    report, problem = await command(request, session, path, body, fields=FIELDS)
    if problem:
        context = await movable(request, session, text(form, "coach"))
        conflicts = problem.details.get("conflicts") or [] if problem.conflict else []
        values = values_of(form) | {"case_ids": body["case_ids"]}
        return again(request, "moves.html", session, problem, values=values, conflicts=conflicts, **context)
    assert report is not None
    return pages.render(request, "move_report.html", session, report=report, move=body)
