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


def may_approve(session: Session, case: dict[str, Any]) -> bool:
    """A team lead of the case's region (never the proposer: the case service says so if it is)."""
    return session.role is Role.TEAM_LEAD and session.region == case["region"]


# what the composed view says about a section it could not fill, as the page says it
WHY = {403: "refused", 404: "missing", 405: "missing", 501: "missing"}
OUTCOME_STEPS = ("OutcomeProposed", "OutcomeProposalRejected", "OutcomeApproved", "OutcomeDecided")


def why_missing(view: dict[str, Any], section: str) -> str | None:
    """None when the section is there; else "missing", "refused" or "unavailable"."""
    for gap in view.get("unavailable") or []:
        if gap.get("section") == section:
            return WHY.get(int(gap.get("status") or 503), "unavailable")
    return None


def items_of(section: Any) -> list[Any]:
    if isinstance(section, dict):
        return list(section.get("items") or [])
    return list(section or [])


def sent_back(timeline: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The team lead's answer to the last proposed outcome, when it sent the proposal back."""
    steps = [e for e in timeline if e.get("event_type") in OUTCOME_STEPS]
    last = steps[-1] if steps else None
    return last if last and last["event_type"] == "OutcomeProposalRejected" else None


async def file_of(request: Request, session: Session, case_id: str) -> dict[str, Any]:
    """One round of two reads: the gateway's composed view of the case (the file, its timeline, the
    household's invitations and messages, its referrals) and the documents on the file."""
    gw = gateway(request)
    view, documents = await asyncio.gather(
        gw.get(session, f"/api/views/cases/{case_id}", PURPOSE, min_position=min_position(request)),
        optional(gw.get(session, f"/api/cases/{case_id}/documents", PURPOSE)),
    )
    case = view["case"]
    timeline = view.get("timeline")
    return {
        "case": case,
        "timeline": items_of(timeline) if timeline is not None else None,
        "timeline_missing": why_missing(view, "timeline"),
        "messages": items_of(view.get("notifications")),
        "messages_missing": why_missing(view, "notifications"),
        "invitations": sorted(items_of(view.get("invitations")), key=lambda i: i.get("appointment_at") or ""),
        "invitations_missing": why_missing(view, "invitations"),
        "referrals": items_of(view.get("referrals")),
        "referrals_missing": why_missing(view, "referrals"),
        "documents": documents[0] or [],
        "documents_missing": documents[1],
        "sent_back": sent_back(items_of(timeline)),
        "may_record": may_record(session, case),
        "may_approve": may_approve(session, case),
        "open": case["status"] in ("open", "contact_lost"),
    }


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
