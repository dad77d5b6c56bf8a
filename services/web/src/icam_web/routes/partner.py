"""The return partner's inbox: only its own referrals, only the minimum data; acknowledge, decline
with a reason, record the departure or the person's withdrawal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from icam_web import pages
from icam_web.actions import again, banner, command, done_url, gateway, go, text, values_of
from icam_web.deps import Form, Partner
from icam_web.gateway import optional
from icam_web.i18n import BRUSSELS
from icam_web.routes import documents

router = APIRouter()
ACTIONS = {
    "acknowledge": "acknowledged",
    "reject": "rejected",
    "departure": "departure",
    "withdrawal": "withdrawal",
}
FIELDS = (
    "partner_reference",
    "reason",
    "departed_on",
    "destination_country",
    "reintegration_support",
    "reason_text",
)


@router.get("/partner")
async def inbox(request: Request, session: Partner) -> Response:
    page = await gateway(request).get(session, "/api/views/partner-inbox", "partner inbox", limit=200)
    template = "_inbox.html" if request.headers.get("hx-request") == "true" else "partner_inbox.html"
    return pages.render(request, template, session, inbox=page, **banner(request))


async def _referral(request: Request, session: Any, referral_id: str) -> dict[str, Any]:
    """The referral, with the documents of the file the coach shared with this partner."""
    gw = gateway(request)
    found: dict[str, Any] = await gw.get(session, f"/api/referrals/{referral_id}", "take a referral on")
    documents, missing = await optional(
        gw.get(session, f"/api/cases/{found['case_id']}/documents", "documents shared with the partner")
    )
    return found | {"shared_documents": documents or [], "documents_missing": missing}


@router.get("/partner/cases/{case_id}/documents/{document_id}")
async def open_document(request: Request, case_id: str, document_id: str, session: Partner) -> Response:
    """A document shared with this partner, through a link made for this person (the view is audited)."""
    return await documents.view(request, session, case_id, document_id)


@router.get("/partner/referrals/{referral_id}")
async def referral(request: Request, referral_id: str, session: Partner) -> Response:
    found = await _referral(request, session, referral_id)
    values = {"departed_on": datetime.now(UTC).astimezone(BRUSSELS).date().isoformat()}
    return pages.render(
        request,
        "partner_referral.html",
        session,
        referral=found,
        values=values,
        problem=None,
        failed="",
        **banner(request),
    )


def body_of(action: str, form: Any, version: str | None) -> dict[str, Any]:
    builders: dict[str, Callable[[], dict[str, Any]]] = {
        "acknowledge": lambda: {"partner_reference": text(form, "partner_reference")},
        "reject": lambda: {"reason": text(form, "reason")},
        "departure": lambda: {
            "departed_on": text(form, "departed_on"),
            "destination_country": (text(form, "destination_country") or "").upper() or None,
            "reintegration_support": text(form, "reintegration_support") == "yes",
        },
        "withdrawal": lambda: {
            "reason": text(form, "withdrawal_reason") or "person_changed_mind",
            "reason_text": text(form, "reason_text"),
        },
    }
    body = builders[action]()
    if version and version.isdigit():
        body["expected_version"] = int(version)
    return body


@router.post("/partner/referrals/{referral_id}/{action}")
async def act(request: Request, referral_id: str, action: str, session: Partner, form: Form) -> Response:
    if action not in ACTIONS:
        return pages.render(request, "error.html", session, status=404, kind="not_found")
    _, problem = await command(
        request,
        session,
        f"/api/referrals/{referral_id}/{action}",
        body_of(action, form, text(form, "expected_version")),
        fields=FIELDS,
        aliases={"reason": "withdrawal_reason"} if action == "withdrawal" else None,
    )
    if problem:
        found = await _referral(request, session, referral_id)
        return again(
            request,
            "partner_referral.html",
            session,
            problem,
            referral=found,
            values=values_of(form),
            failed=action,
            reload_url=f"/partner/referrals/{referral_id}",
        )
    target = "/partner" if action == "reject" else f"/partner/referrals/{referral_id}"
    return go(done_url(target, ACTIONS[action], draft=f"{action}:{referral_id}"))
