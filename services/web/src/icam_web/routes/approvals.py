"""Four eyes on outcome C: the region's team lead sees the outcomes proposed by its coaches, reads
each proposal on its case, and approves it (then it takes effect: C closes the trajectory and the
consequences letter follows) or sends it back with a reason. The case service refuses the proposer
as approver; its problem is shown next to the action."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from icam_web import pages
from icam_web.actions import again, banner, command, done_url, gateway, go, text, values_of
from icam_web.deps import Form, TeamLead
from icam_web.sessions import Session

router = APIRouter()
PURPOSE = "approve an outcome"
# where the case service's problems land: the decision id is the approve button's, the reason the text's
ALIASES = {"decision_id": "approve"}


async def proposal_of(request: Request, session: Session, case_id: str) -> dict[str, Any]:
    case: dict[str, Any] = await gateway(request).get(session, f"/api/cases/{case_id}", PURPOSE)
    return case


async def pending_approvals(request: Request, session: Session, limit: int = 100) -> dict[str, Any]:
    """The region's outcomes awaiting a team lead, longest waiting first (the team lead's tasks)."""
    page: dict[str, Any] = await gateway(request).get(
        session, "/api/tasks", PURPOSE, for_team_lead="true", kind="approval_pending", limit=limit
    )
    return page


@router.get("/team/approvals")
async def approvals(request: Request, session: TeamLead) -> Response:
    page = await pending_approvals(request, session)
    return pages.render(request, "approvals.html", session, page=page, **banner(request))


@router.get("/cases/{case_id}/approval")
async def approval_form(request: Request, case_id: str, session: TeamLead) -> Response:
    case = await proposal_of(request, session, case_id)
    return pages.render(request, "approval.html", session, case=case, values={}, problem=None, failed="")


@router.post("/cases/{case_id}/approval/{action}")
async def decide_proposal(
    request: Request, case_id: str, action: str, session: TeamLead, form: Form
) -> Response:
    if action not in ("approve", "reject"):
        return pages.render(request, "error.html", session, status=404, kind="not_found")
    decision = text(form, "decision_id") or "-"
    body = {} if action == "approve" else {"reason": text(form, "reason")}
    path = f"/api/cases/{case_id}/outcome/{decision}/{action}"
    answer, problem = await command(
        request, session, path, body, fields=("approve", "reason"), aliases=ALIASES
    )
    if problem:
        case = await proposal_of(request, session, case_id)
        values = values_of(form)
        return again(request, "approval.html", session, problem, case=case, values=values, failed=action)
    assert answer is not None
    done = "approved" if action == "approve" else "sent_back"
    return go(
        done_url(f"/cases/{case_id}", done, position=answer.get("position"), draft=f"approval:{case_id}")
    )
