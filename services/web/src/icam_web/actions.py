"""What every screen's action does: send the command to the gateway, and either go on to the page
that shows its result (read-your-writes: `min_position`, the draft cleared, a "done" banner) or show
the form again with each problem next to its field and what was typed still in it."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from icam_web import pages, problems
from icam_web.gateway import Gateway, GatewayProblem
from icam_web.sessions import Session

# what the banner says after each action (English source strings of the catalogues)
DONE = {
    "invitation": "Invitation sent. The case opens in a moment.",
    "rescheduled": "Interview moved; the household is told.",
    "cancelled": "Invitation cancelled.",
    "interview": "Interview recorded.",
    "element": "Element marked as received.",
    "outcome": "Outcome recorded.",
    "proposed": "Outcome proposed: it takes effect once a team lead of the region approves it.",
    "approved": "Outcome approved: it takes effect now.",
    "sent_back": "Proposal sent back to the coach.",
    "document": "Document added to the file.",
    "document_removed": "Document taken off the file.",
    "document_shared": "Document shared with the return partner.",
    "member_added": "Member added to the household.",
    "member_left": "The member is no longer part of the household.",
    "moved": "Cases moved.",
    "suspended": "Trajectory suspended.",
    "resumed": "Trajectory resumed.",
    "closed": "Trajectory closed.",
    "vulnerability": "Vulnerability recorded.",
    "assigned": "Case reassigned.",
    "transferred": "Case transferred.",
    "visit": "Walk-in visit registered.",
    "acknowledged": "Referral acknowledged.",
    "rejected": "Referral declined; it goes to the next partner.",
    "departure": "Departure recorded.",
    "withdrawal": "Withdrawal recorded.",
    "erasure": "Erasure ordered: the data keys are destroyed and every service purges its copies.",
    "hold": "Hold placed: retention will not erase this household while it lasts.",
    "released": "Hold released: the household's retention period runs again.",
}


def gateway(request: Request) -> Gateway:
    found: Gateway = request.app.state.gateway
    return found


def done_url(target: str, done: str, *, position: int | None = None, draft: str | None = None) -> str:
    query = {"done": done}
    if position:
        query["min_position"] = str(position)
    if draft:
        query["draft"] = draft
    return f"{target}{'&' if '?' in target else '?'}{urlencode(query)}"


def banner(request: Request) -> dict[str, Any]:
    """The `done` banner and the drafts it clears, for a page reached after an action."""
    key = request.query_params.get("done", "")
    text = DONE.get(key)
    lang = pages.language_of(request)
    return {
        "done": lang.gettext(text) if text else "",
        "cleared_drafts": request.query_params.get("draft", "") if text else "",
    }


def min_position(request: Request) -> int | None:
    raw = request.query_params.get("min_position", "")
    return int(raw) if raw.isdigit() else None


def values_of(form: FormData) -> dict[str, Any]:
    """The submitted values, lists for repeated names (checkboxes), to fill the form again."""
    values: dict[str, Any] = {}
    for key in form:
        items = form.getlist(key)
        values[key] = items if len(items) > 1 else items[0]
    return values


def chosen(form: FormData, name: str) -> list[str]:
    return [str(v) for v in form.getlist(name) if str(v)]


def text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value.strip() or None if isinstance(value, str) else None


async def command(
    request: Request,
    session: Session,
    path: str,
    body: Mapping[str, Any],
    *,
    fields: Collection[str],
    aliases: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any] | None, problems.ProblemView | None]:
    """Send one command: (its answer, None), or (None, the problem as the form shows it)."""
    try:
        answer: dict[str, Any] = await gateway(request).post(session, path, dict(body))
        return answer, None
    except GatewayProblem as problem:
        lang = pages.language_of(request)
        return None, problems.view_of(problem.status, problem.problem, lang.gettext, fields, aliases)


async def one_click(request: Request, session: Session, path: str, case_id: str, done: str) -> Response:
    """A button on the case file that sends a command without a form to fill: back to the file
    with the banner `done`, or the error page (the button shows only where the command fits)."""
    answer, problem = await command(request, session, path, {}, fields=())
    if problem:
        return pages.render(request, "error.html", session, status=problem.status, kind="error")
    assert answer is not None
    return go(done_url(f"/cases/{case_id}", done, position=answer.get("position")))


def again(
    request: Request, template: str, session: Session, problem: problems.ProblemView, **context: Any
) -> Response:
    """The form again, with the problem: 422 for invalid input, 409 conflicts, 503 to retry."""
    status = problem.status if problem.status in (403, 404, 409, 422, 503) else 422
    if problem.retry:
        status = 503
    return pages.render(request, template, session, status=status, problem=problem, **context)


def go(target: str) -> Response:
    return RedirectResponse(target, status_code=303)
