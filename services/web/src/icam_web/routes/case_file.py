"""The case file: the household, its timeline across services, dossier elements, vulnerabilities
(need-to-know, as the case service shapes them), invitations, every message with its PDF letter,
referrals — and the actions the caller may take on it."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from icam_auth import Role
from icam_web import pages
from icam_web.actions import banner, gateway, min_position
from icam_web.deps import Coaching
from icam_web.gateway import optional
from icam_web.sessions import Session

router = APIRouter()
PURPOSE = "case file review"


def may_record(session: Session, case: dict[str, Any]) -> bool:
    """The assigned coach, or a team lead of the case's region (the case service checks again)."""
    if session.role is Role.TEAM_LEAD:
        return bool(session.region == case["region"])
    return session.role is Role.COACH and bool(case.get("coach_id") == session.subject)


async def _each(request: Request, session: Session, path: str, ids: list[str]) -> list[Any]:
    gw = gateway(request)
    found = await asyncio.gather(*(optional(gw.get(session, f"{path}/{i}", PURPOSE)) for i in ids))
    return [value for value, _ in found if value]


def _ids(notes: list[dict[str, Any]], key: str) -> list[str]:
    return list(dict.fromkeys(str(n[key]) for n in notes if n.get(key)))


async def file_of(request: Request, session: Session, case_id: str) -> dict[str, Any]:
    """Parallel reads in at most three rounds: the case, its timeline, the lists by case (when the
    gateway offers them) and — when the link named the household (`?h=`) — its messages; else the
    messages once the case names its household; then each invitation and referral they name."""
    gw = gateway(request)
    position = min_position(request)
    hint = request.query_params.get("h")
    case, timeline, listed_invitations, listed_referrals, early = await asyncio.gather(
        gw.get(session, f"/api/cases/{case_id}", PURPOSE, min_position=position),
        optional(
            gw.get(session, f"/api/cases/{case_id}/timeline", PURPOSE, limit=200, min_position=position)
        ),
        gw.get_if_offered(session, "/api/invitations", PURPOSE, case_id=case_id),
        gw.get_if_offered(session, "/api/referrals", PURPOSE, case_id=case_id),
        messages_of(request, session, hint) if hint else _nothing(),
    )
    # by household: the invitation letter goes out before the case exists
    same = hint == str(case["household_id"])
    messages = early if same else await messages_of(request, session, str(case["household_id"]))
    notes = (messages[0] or {}).get("items", [])
    invitations, referrals = await asyncio.gather(
        _listed_or_each(
            request, session, listed_invitations, "/api/invitations", _ids(notes, "invitation_id")
        ),
        _listed_or_each(request, session, listed_referrals, "/api/referrals", _ids(notes, "referral_id")),
    )
    return {
        "case": case,
        "timeline": (timeline[0] or {}).get("items"),
        "timeline_missing": timeline[1],
        "messages": notes,
        "messages_missing": messages[1],
        "invitations": sorted(invitations, key=lambda i: i.get("appointment_at") or ""),
        "invitations_missing": None if invitations or listed_invitations is not None else "missing",
        "referrals": referrals,
        "referrals_missing": None if referrals or listed_referrals is not None else "missing",
        "may_record": may_record(session, case),
        "open": case["status"] in ("open", "contact_lost"),
    }


async def messages_of(request: Request, session: Session, household_id: str) -> tuple[Any, str | None]:
    path = "/api/notifications"
    return await optional(gateway(request).get(session, path, PURPOSE, household_id=household_id, limit=100))


async def _nothing() -> tuple[Any, str | None]:
    return None, None


async def _listed_or_each(
    request: Request, session: Session, listed: Any, path: str, ids: list[str]
) -> list[Any]:
    if listed is not None:
        return list(listed.get("items", listed) if isinstance(listed, dict) else listed)
    return await _each(request, session, path, ids)


@router.get("/cases/{case_id}")
async def case_file(request: Request, case_id: str, session: Coaching) -> Response:
    context = await file_of(request, session, case_id)
    return pages.render(request, "case_file.html", session, **context, **banner(request))


@router.get("/cases/{case_id}/timeline")
async def timeline(request: Request, case_id: str, session: Coaching) -> Response:
    """The timeline alone, for the page's periodic refresh (htmx): no manual reload needed."""
    page = await gateway(request).get(session, f"/api/cases/{case_id}/timeline", PURPOSE, limit=200)
    return pages.render(request, "_timeline.html", session, timeline=page["items"], case={"case_id": case_id})


@router.get("/cases/{case_id}/messages/{notification_id}")
async def message(request: Request, case_id: str, notification_id: str, session: Coaching) -> Response:
    found = await gateway(request).get(session, f"/api/notifications/{notification_id}", "read a message")
    return pages.render(request, "message.html", session, message=found, case_id=case_id)


@router.get("/cases/{case_id}/messages/{notification_id}/letter.pdf")
async def letter(request: Request, case_id: str, notification_id: str, session: Coaching) -> Response:
    """The PDF letter as the notification service stored it for printing, shown inline."""
    answer = await gateway(request).call(
        session, "GET", f"/api/notifications/{notification_id}/pdf", purpose="read a letter"
    )
    return Response(
        answer.content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="icam-letter-{notification_id[:8]}.pdf"'},
    )
