"""Inviting a household: the invitation form (earliest valid date, working hours, Belgian holidays,
the coach's booked slots of the day), re-inviting from a case, rescheduling and cancelling."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from babel.dates import get_day_names
from fastapi import APIRouter, Request
from fastapi.responses import Response

from icam_web import duplicates, forms, pages
from icam_web.actions import again, banner, command, done_url, gateway, go, text, values_of
from icam_web.deps import Coaching, Form
from icam_web.gateway import optional
from icam_web.scheduling import SchedulingHints
from icam_web.sessions import Session

router = APIRouter()
SLOT_FIELDS = ("appointment_at", "channels", "office", "language", "coach_id")
MATCH_ALIASES = {"match.linked_to": "match", "match.candidates": "match", "household_id": "match"}
MEMBER_FIELDS = (
    "person_id",
    "given_name",
    "family_name",
    "preferred_language",
    "birth_date",
    "nationality",
    "email",
    "phone",
    "street",
    "house_number",
    "postal_code",
    "municipality",
    *[f"minor_{p}_{n}" for n in (1, 2, 3) for p in ("person_id", "given_name", "birth_date")],
)


async def planning(request: Request, session: Session, day: str | None) -> dict[str, Any]:
    """What the form shows beside the slot: the rules, the holidays ahead, the coach's booked slots."""
    now = datetime.now(UTC)
    hints = SchedulingHints.from_env()
    lang = pages.language_of(request)
    chosen = forms.day_of(day, hints.earliest(now, postal=True))
    slots, why = await optional(
        gateway(request).get(
            session,
            f"/api/agenda/coaches/{session.subject}",
            "avoid a double booking",
            day=chosen.isoformat(),
        )
    )
    names = get_day_names("wide", locale=lang.locale)
    return {
        "hints": hints,
        "working_days": ", ".join(names[d] for d in hints.days),
        "earliest_postal": hints.earliest(now, postal=True),
        "earliest_electronic": hints.earliest(now, postal=False),
        "holidays": hints.holidays_ahead(now.astimezone().date(), 90, lang.code),
        "slot_day": chosen,
        "slots": (slots or {}).get("items", []),
        "slots_missing": why,
    }


def _offices(request: Request, session: Session) -> list[tuple[str, str]]:
    reference = request.app.state.reference
    offices = reference.offices_in(session.region) if session.region else reference.offices
    return [(o.code, o.city) for o in offices]


@router.get("/invitations/slots")
async def booked_slots(request: Request, session: Coaching, day: str | None = None) -> Response:
    """The coach's booked slots of one day (htmx swaps this in when the date changes)."""
    return pages.render(request, "_slots.html", session, **await planning(request, session, day))


@router.get("/invitations/new")
async def new_invitation(request: Request, session: Coaching, day: str | None = None) -> Response:
    values = {
        "invitation_id": str(uuid.uuid4()),
        "household_id": str(uuid.uuid4()),
        "channels": ["postal_letter", "email"],
    }
    context = await planning(request, session, day)
    values["appointment_at"] = forms.local_input(context["earliest_postal"])
    return pages.render(
        request,
        "invitation.html",
        session,
        values=values,
        offices=_offices(request, session),
        problem=None,
        case=None,
        **context,
    )


def slot_body(form: Any, session: Session) -> dict[str, Any]:
    return {
        "appointment_at": forms.local_moment(text(form, "appointment_at")),
        "channels": [str(c) for c in form.getlist("channels")],
        "office": text(form, "office"),
        "language": text(form, "language"),
        "coach_id": text(form, "coach_id") or session.subject,
    }


async def possible_households(request: Request, session: Session, members: list[Any]) -> list[Any]:
    """The existing households the first contact may belong to (none when the check cannot run:
    the command itself then says what is wrong with the entry)."""
    people = duplicates.people_of(members)
    if not people:
        return []
    found, _ = await optional(gateway(request).post(session, "/api/duplicates/check", {"members": people}))
    return list((found or {}).get("candidates", []))


def with_match(body: dict[str, Any], form: Any) -> dict[str, Any]:
    """The command with the coach's decision on the households shown (linked: that household)."""
    match = duplicates.match_of(form)
    if match is None:
        return body
    linked = {"household_id": match["linked_to"]} if match["linked_to"] else {}
    return body | {"match": match} | linked


def new_household_page(
    request: Request,
    session: Session,
    form: Any,
    problem: Any,
    candidates: list[Any],
    context: dict[str, Any],
) -> Response:
    values = values_of(form)
    offices = _offices(request, session)
    if problem is None:
        return pages.render(
            request,
            "invitation.html",
            session,
            values=values,
            offices=offices,
            problem=None,
            case=None,
            candidates=candidates,
            **context,
        )
    return again(
        request,
        "invitation.html",
        session,
        problem,
        values=values,
        offices=offices,
        case=None,
        candidates=candidates,
        **context,
    )


@router.post("/invitations/new")
async def send_invitation(request: Request, session: Coaching, form: Form) -> Response:
    body = slot_body(form, session) | {
        "invitation_id": text(form, "invitation_id"),
        "household_id": text(form, "household_id"),
        "members": forms.members(form),
    }
    day = (text(form, "appointment_at") or "")[:10]
    if not duplicates.decided(form):
        candidates = await possible_households(request, session, body["members"])
        if candidates:  # the coach says first whether this is a household met before
            context = await planning(request, session, day)
            return new_household_page(request, session, form, None, candidates, context)
    answer, problem = await command(
        request,
        session,
        "/api/invitations",
        with_match(body, form),
        fields=SLOT_FIELDS + MEMBER_FIELDS + ("match",),
        aliases=forms.MEMBER_ALIASES | MATCH_ALIASES,
    )
    if problem:
        context = await planning(request, session, day)
        shown = (
            await possible_households(request, session, body["members"]) if duplicates.decided(form) else []
        )
        return new_household_page(request, session, form, problem, shown, context)
    assert answer is not None
    return go(
        done_url(f"/invitations/opening/{answer['household_id']}", "invitation", draft="invitation:new")
    )


@router.get("/invitations/opening/{household_id}")
async def case_opening(request: Request, household_id: str, session: Coaching) -> Response:
    """Waits (refreshing itself, with or without JavaScript) until the case service opened the case."""
    gw = gateway(request)
    mine, region = await asyncio.gather(
        optional(
            gw.get(session, "/api/views/caseload", "find the new case", coach=session.subject, limit=200)
        ),
        optional(gw.get(session, "/api/caseload", "find the new case", status="open", limit=200)),
    )
    cases = [c for page in (mine[0], region[0]) for c in (page or {}).get("items", [])]
    found = next((c for c in cases if c["household_id"] == household_id), None)
    if found:
        return go(f"/cases/{found['case_id']}?done=invitation&draft=invitation:new")
    return pages.render(request, "case_opening.html", session, household_id=household_id, **banner(request))


@router.get("/cases/{case_id}/invite")
async def invite_form(request: Request, case_id: str, session: Coaching, day: str | None = None) -> Response:
    case = await gateway(request).get(session, f"/api/cases/{case_id}", "prepare an invitation")
    context = await planning(request, session, day)
    values = {
        "invitation_id": str(uuid.uuid4()),
        "channels": ["postal_letter", "email"],
        "office": case["office"],
        "appointment_at": forms.local_input(context["earliest_postal"]),
    }
    return pages.render(
        request,
        "invitation.html",
        session,
        values=values,
        offices=_offices(request, session),
        problem=None,
        case=case,
        **context,
    )


@router.post("/cases/{case_id}/invite")
async def invite_again(request: Request, case_id: str, session: Coaching, form: Form) -> Response:
    case = await gateway(request).get(session, f"/api/cases/{case_id}", "prepare an invitation")
    members = [{"role": m["role"], "person_id": m["person_id"]} for m in case["members"]]
    given = forms.members(form)[0]
    if given.get("contact"):
        members[0] |= {"contact": given["contact"]}
    body = slot_body(form, session) | {
        "invitation_id": text(form, "invitation_id"),
        "household_id": case["household_id"],
        "members": members,
        "attempt": max(2, int(text(form, "attempt") or 2)),
    }
    _, problem = await command(
        request,
        session,
        "/api/invitations",
        body,
        fields=SLOT_FIELDS + MEMBER_FIELDS,
        aliases=forms.MEMBER_ALIASES,
    )
    if problem:
        context = await planning(request, session, (text(form, "appointment_at") or "")[:10])
        return again(
            request,
            "invitation.html",
            session,
            problem,
            values=values_of(form),
            offices=_offices(request, session),
            case=case,
            **context,
        )
    return go(done_url(f"/cases/{case_id}", "invitation", draft=f"invitation:{case_id}"))


@router.get("/invitations/{invitation_id}/{action}")
async def change_form(
    request: Request, invitation_id: str, action: str, session: Coaching, case: str = ""
) -> Response:
    if action not in ("reschedule", "cancel"):
        return pages.render(request, "error.html", session, status=404, kind="not_found")
    invitation = await gateway(request).get(
        session, f"/api/invitations/{invitation_id}", "manage an invitation"
    )
    context = await planning(request, session, None) if action == "reschedule" else {}
    values = {"appointment_at": forms.local_input(invitation.get("appointment_at"))}
    return pages.render(
        request,
        "invitation_change.html",
        session,
        invitation=invitation,
        action=action,
        case_id=case,
        values=values,
        problem=None,
        **context,
    )


@router.post("/invitations/{invitation_id}/{action}")
async def change(
    request: Request, invitation_id: str, action: str, session: Coaching, form: Form
) -> Response:
    if action not in ("reschedule", "cancel"):
        return pages.render(request, "error.html", session, status=404, kind="not_found")
    if action == "reschedule":
        body = {
            "appointment_at": forms.local_moment(text(form, "appointment_at")),
            "requested_by_person": text(form, "requested_by_person") == "yes",
            "reason": text(form, "reason"),
        }
    else:
        body = {"reason": text(form, "reason")}
    _, problem = await command(
        request,
        session,
        f"/api/invitations/{invitation_id}/{action}",
        body,
        fields=("appointment_at", "reason", "requested_by_person"),
    )
    case_id = text(form, "case_id") or ""
    if problem:
        invitation = await gateway(request).get(
            session, f"/api/invitations/{invitation_id}", "manage an invitation"
        )
        context = await planning(request, session, None) if action == "reschedule" else {}
        return again(
            request,
            "invitation_change.html",
            session,
            problem,
            invitation=invitation,
            action=action,
            case_id=case_id,
            values=values_of(form),
            **context,
        )
    target = f"/cases/{case_id}" if case_id else "/agenda"
    return go(
        done_url(
            target,
            "rescheduled" if action == "reschedule" else "cancelled",
            draft=f"{action}:{invitation_id}",
        )
    )
