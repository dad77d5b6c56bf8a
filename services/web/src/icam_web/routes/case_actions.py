"""The actions of the trajectory on a case: record an interview, mark an element received, decide
the outcome A/B/C, record a vulnerability, suspend, resume, close. Each is a plain form POST (htmx
only improves it); the answer's `position` makes the case file show the result at once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from icam_web import forms, pages
from icam_web.actions import again, command, done_url, gateway, go, one_click, text, values_of
from icam_web.deps import Coaching, Form
from icam_web.sessions import Session

router = APIRouter()
TOPICS = ("legal situation", "stay procedures", "return options", "family situation", "health", "documents")
INTERVIEW_FIELDS = (
    "occurred_at",
    "kind",
    "language",
    "attendees",
    "interpreter_present",
    "interpreter_language",
    "topics",
    "notes",
    "duration_minutes",
    *[f"{p}_{n}" for n in (1, 2, 3) for p in ("element", "element_person", "element_due")],
)
OUTCOME_FIELDS = (
    "outcome",
    "rationale",
    "communicated",
    "communicated_in",
    "consent_to_referral",
    "preferred_partner",
    "procedure_explained",
    "consequences_explained",
    "stay_procedure_started",
    "revision_reason",
)


async def case_of(request: Request, session: Session, case_id: str) -> dict[str, Any]:
    case: dict[str, Any] = await gateway(request).get(
        session, f"/api/cases/{case_id}", "prepare a case action"
    )
    return case


def _page(request: Request, case_id: str, action: str) -> str:
    return f"/cases/{case_id}/{action}"


@router.get("/cases/{case_id}/interview")
async def interview_form(request: Request, case_id: str, session: Coaching) -> Response:
    case = await case_of(request, session, case_id)
    values = {
        "occurred_at": forms.local_input(datetime.now(UTC), seconds=True),
        "kind": "follow_up" if case["interviews_held"] else "intake",
        "language": case["language"],
        "attendees": [m["person_id"] for m in case["members"] if m["role"] == "adult"],
        "interpreter_present": "no",
    }
    return pages.render(
        request, "interview.html", session, case=case, values=values, topics=TOPICS, problem=None
    )


@router.post("/cases/{case_id}/interview")
async def record_interview(request: Request, case_id: str, session: Coaching, form: Form) -> Response:
    answer, problem = await command(
        request,
        session,
        f"/api/cases/{case_id}/interviews",
        forms.interview(form),
        fields=INTERVIEW_FIELDS,
        aliases=forms.interview_aliases(),
    )
    if problem:
        case = await case_of(request, session, case_id)
        return again(
            request, "interview.html", session, problem, case=case, values=values_of(form), topics=TOPICS
        )
    assert answer is not None
    return go(
        done_url(
            f"/cases/{case_id}", "interview", position=answer.get("position"), draft=f"interview:{case_id}"
        )
    )


@router.post("/cases/{case_id}/elements/{element_id}/received")
async def element_received(
    request: Request, case_id: str, element_id: str, session: Coaching, form: Form
) -> Response:
    path = f"/api/cases/{case_id}/dossier-elements/{element_id}/received"
    return await one_click(request, session, path, case_id, "element")


def _partners(request: Request) -> list[tuple[str, str]]:
    return [(p.code, p.name) for p in request.app.state.reference.partners]


@router.get("/cases/{case_id}/outcome")
async def outcome_form(request: Request, case_id: str, session: Coaching) -> Response:
    case = await case_of(request, session, case_id)
    values = {
        "communicated_in": case["language"],
        "expected_version": case["version"],
        "opened_at": datetime.now(UTC).isoformat(),
    }
    return pages.render(
        request, "outcome.html", session, case=case, values=values, partners=_partners(request), problem=None
    )


async def changes_since(request: Request, session: Session, case_id: str, since: str | None) -> list[Any]:
    """What was recorded on the case after the form was opened: what a 409 shows."""
    if not since:
        return []
    page = await gateway(request).get(
        session, f"/api/cases/{case_id}/timeline", "show what changed", limit=200
    )
    moment = datetime.fromisoformat(since)
    return [e for e in page["items"] if datetime.fromisoformat(e["recorded_at"]) > moment]


@router.post("/cases/{case_id}/outcome")
async def decide_outcome(request: Request, case_id: str, session: Coaching, form: Form) -> Response:
    answer, problem = await command(
        request, session, f"/api/cases/{case_id}/outcome", forms.outcome(form), fields=OUTCOME_FIELDS
    )
    if problem:
        case = await case_of(request, session, case_id)
        changes = (
            await changes_since(request, session, case_id, text(form, "opened_at"))
            if problem.conflict
            else []
        )
        fresh = {"expected_version": case["version"], "opened_at": datetime.now(UTC).isoformat()}
        return again(
            request,
            "outcome.html",
            session,
            problem,
            case=case,
            values=values_of(form) | (fresh if problem.conflict else {}),
            partners=_partners(request),
            reload_url=f"/cases/{case_id}",
            changes=changes,
        )
    assert answer is not None
    # an outcome under four eyes (C) is only proposed: the page says it awaits the team lead
    done = "proposed" if "OutcomeProposed" in answer.get("events", []) else "outcome"
    return go(
        done_url(f"/cases/{case_id}", done, position=answer.get("position"), draft=f"outcome:{case_id}")
    )


@router.get("/cases/{case_id}/vulnerability")
async def vulnerability_form(request: Request, case_id: str, session: Coaching) -> Response:
    case = await case_of(request, session, case_id)
    return pages.render(request, "vulnerability.html", session, case=case, values={}, problem=None)


@router.post("/cases/{case_id}/vulnerability")
async def flag_vulnerability(request: Request, case_id: str, session: Coaching, form: Form) -> Response:
    body = {
        "person_id": form.get("person_id"),
        "categories": form.getlist("categories"),
        "details": (str(form.get("details") or "").strip() or None),
    }
    answer, problem = await command(
        request,
        session,
        f"/api/cases/{case_id}/vulnerabilities",
        body,
        fields=("person_id", "categories", "details"),
    )
    if problem:
        case = await case_of(request, session, case_id)
        return again(request, "vulnerability.html", session, problem, case=case, values=values_of(form))
    assert answer is not None
    return go(
        done_url(
            f"/cases/{case_id}",
            "vulnerability",
            position=answer.get("position"),
            draft=f"vulnerability:{case_id}",
        )
    )


@router.get("/cases/{case_id}/status")
async def status_form(request: Request, case_id: str, session: Coaching) -> Response:
    case = await case_of(request, session, case_id)
    return pages.render(request, "case_status.html", session, case=case, values={}, problem=None)


STATUS_COMMANDS = {"suspend": "suspended", "resume": "resumed", "close": "closed"}


@router.post("/cases/{case_id}/status/{action}")
async def change_status(
    request: Request, case_id: str, action: str, session: Coaching, form: Form
) -> Response:
    if action not in STATUS_COMMANDS:
        return pages.render(request, "error.html", session, status=404, kind="not_found")
    body = {
        "suspend": {"reason": text(form, "reason")},
        "resume": {"note": text(form, "note")},
        "close": {"reason": text(form, "close_reason"), "reason_text": text(form, "reason_text")},
    }[action]
    answer, problem = await command(
        request,
        session,
        f"/api/cases/{case_id}/{action}",
        body,
        fields=("reason", "note", "reason_text"),
        aliases={"reason": "close_reason"} if action == "close" else None,
    )
    if problem:
        case = await case_of(request, session, case_id)
        return again(
            request, "case_status.html", session, problem, case=case, values=values_of(form), failed=action
        )
    assert answer is not None
    return go(done_url(f"/cases/{case_id}", STATUS_COMMANDS[action], position=answer.get("position")))
