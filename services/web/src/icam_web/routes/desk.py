"""The walk-in desk (Wednesday mornings): who came today, and registering a visit — seen on the
spot by the coach, or invited to a later interview."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from icam_web import duplicates, forms, pages
from icam_web.actions import again, banner, command, done_url, gateway, go, text, values_of
from icam_web.deps import Coaching, Form
from icam_web.i18n import BRUSSELS
from icam_web.routes.agenda import cases_by_household
from icam_web.routes.invitations import MATCH_ALIASES, MEMBER_FIELDS, possible_households, with_match
from icam_web.sessions import Session

router = APIRouter()
PURPOSE = "walk-in desk"


def desk_for(request: Request, session: Session, code: str | None) -> Any:
    reference = request.app.state.reference
    offices = {o.code: o for o in reference.offices}
    mine = [d for d in reference.desks if offices[d.office].region == session.region] or list(reference.desks)
    return next((d for d in mine if d.code == code), mine[0])


def is_open(desk: Any, now: datetime) -> bool:
    from icam_web.scheduling import holiday_name

    local = now.astimezone(BRUSSELS)
    return (
        local.weekday() == desk.weekday
        and holiday_name(local.date()) is None
        and desk.opens <= local.time() < desk.closes
    )


async def desk_context(request: Request, session: Session, code: str | None) -> dict[str, Any]:
    desk = desk_for(request, session, code)
    now = datetime.now(UTC)
    today = now.astimezone(BRUSSELS).date().isoformat()
    visits = await gateway(request).get(
        session, f"/api/desks/{desk.code}/visits", PURPOSE, day=today, limit=200
    )
    return {
        "desk": desk,
        "open": is_open(desk, now),
        "visits": visits["items"],
        "cases": await cases_by_household(request, session, coach=session.subject),
    }


@router.get("/desk")
async def desk_queue(request: Request, session: Coaching, desk: str | None = None) -> Response:
    context = await desk_context(request, session, desk)
    return pages.render(
        request,
        "desk.html",
        session,
        values={"outcome": "interview_on_the_spot"},
        problem=None,
        **context,
        **banner(request),
    )


@router.post("/desk/{code}/visits")
async def register_visit(request: Request, code: str, session: Coaching, form: Form) -> Response:
    outcome = text(form, "outcome")
    body: dict[str, Any] = {
        "household_id": text(form, "household_id"),
        "members": forms.members(form),
        "outcome": outcome,
        "coach_id": session.subject,
        "language": text(form, "preferred_language"),
    }
    if outcome == "invitation":
        body["invitation"] = {
            "appointment_at": forms.local_moment(text(form, "appointment_at")),
            "channels": [str(c) for c in form.getlist("channels")] or ["postal_letter"],
        }
    if not duplicates.decided(form):
        candidates = await possible_households(request, session, body["members"])
        if candidates:  # first: is this a household met before?
            return await _desk_again(request, session, code, form, None, candidates)
    aliases = (
        forms.MEMBER_ALIASES
        | MATCH_ALIASES
        | {
            "invitation.appointment_at": "appointment_at",
            "invitation.channels": "channels",
        }
    )
    _, problem = await command(
        request,
        session,
        f"/api/desks/{code}/visits",
        with_match(body, form),
        fields=(*MEMBER_FIELDS, "outcome", "appointment_at", "channels", "match"),
        aliases=aliases,
    )
    if problem:
        shown = (
            await possible_households(request, session, body["members"]) if duplicates.decided(form) else []
        )
        return await _desk_again(request, session, code, form, problem, shown)
    return go(done_url(f"/desk?desk={code}", "visit", draft=f"desk:{code}"))


async def _desk_again(
    request: Request, session: Session, code: str, form: Any, problem: Any, candidates: list[Any]
) -> Response:
    context = await desk_context(request, session, code) | {
        "values": values_of(form),
        "candidates": candidates,
    }
    if problem is None:
        return pages.render(request, "desk.html", session, problem=None, **context)
    return again(request, "desk.html", session, problem, **context)
