"""The team lead's region: the caseload at a glance, what is overdue, the offices' agendas, and
reassigning or transferring a case."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from icam_web import forms, pages
from icam_web.actions import again, banner, command, done_url, gateway, go, text, values_of
from icam_web.deps import Form, TeamLead
from icam_web.gateway import optional
from icam_web.routes.agenda import agenda_of
from icam_web.routes.approvals import pending_approvals
from icam_web.sessions import Session

router = APIRouter()
PURPOSE = "region overview"
OVERDUE = ("contact_lost", "referral_stalled", "outcome_reopened", "elements_outstanding", "contact_problem")


async def overview(request: Request, session: Session) -> dict[str, Any]:
    gw = gateway(request)
    now = datetime.now(UTC).isoformat()
    everything, late, workload, approvals, *flagged = await asyncio.gather(
        gw.get(session, "/api/views/caseload", PURPOSE, limit=200),
        gw.get(session, "/api/views/caseload", PURPOSE, status="open", due_before=now, limit=50),
        optional(gw.get(session, "/api/tasks/overdue-by-coach", PURPOSE)),
        optional(pending_approvals(request, session, limit=10)),
        *(gw.get(session, "/api/views/caseload", PURPOSE, flag=flag, limit=20) for flag in OVERDUE),
    )
    by_coach: dict[str, dict[str, int]] = {}
    for case in everything["items"]:
        counts = by_coach.setdefault(
            case["coach_id"] or "", {"open": 0, "contact_lost": 0, "suspended": 0, "closed": 0}
        )
        counts[case["status"]] = counts.get(case["status"], 0) + 1
    return {
        "total": everything["total"],
        "by_coach": sorted(by_coach.items()),
        "late": late,
        "flagged": [(flag, page) for flag, page in zip(OVERDUE, flagged, strict=True)],
        "sampled": everything["total"] > len(everything["items"]),
        "workload": workload[0] or [],
        "workload_missing": workload[1],
        "approvals": approvals[0] or {"items": [], "total": 0},
    }


@router.get("/team")
async def region(request: Request, session: TeamLead) -> Response:
    return pages.render(request, "team.html", session, **await overview(request, session), **banner(request))


@router.get("/team/agendas")
async def agendas(request: Request, session: TeamLead, day: str | None = None) -> Response:
    context = await agenda_of(request, session, forms.day_of(day, datetime.now(UTC)))
    return pages.render(request, "team_agendas.html", session, **context)


def regions_of(request: Request) -> list[tuple[str, str]]:
    return [(r.code, r.names.get("fr", r.code)) for r in request.app.state.reference.regions]


def offices_of(request: Request) -> list[tuple[str, str]]:
    return [(o.code, f"{o.city} ({o.region})") for o in request.app.state.reference.offices]


async def coaches_of(request: Request, session: Session) -> list[str]:
    page = await gateway(request).get(session, "/api/views/caseload", PURPOSE, limit=200)
    return sorted({c["coach_id"] for c in page["items"] if c["coach_id"]})


@router.get("/cases/{case_id}/assign")
async def assign_form(request: Request, case_id: str, session: TeamLead) -> Response:
    case = await gateway(request).get(session, f"/api/cases/{case_id}", "prepare a reassignment")
    return pages.render(
        request,
        "assign.html",
        session,
        case=case,
        values={},
        problem=None,
        failed="",
        coaches=await coaches_of(request, session),
        regions=regions_of(request),
        offices=offices_of(request),
    )


@router.post("/cases/{case_id}/assign/{action}")
async def assign(request: Request, case_id: str, action: str, session: TeamLead, form: Form) -> Response:
    if action == "transfer":
        body = {
            "to_region": text(form, "to_region"),
            "to_office": text(form, "to_office"),
            "reason": text(form, "reason"),
        }
        path, done = f"/api/cases/{case_id}/transfer", "transferred"
    else:
        body, path, done = {"coach_id": text(form, "coach_id")}, f"/api/cases/{case_id}/assign", "assigned"
    answer, problem = await command(
        request, session, path, body, fields=("coach_id", "to_region", "to_office", "reason")
    )
    if problem:
        case = await gateway(request).get(session, f"/api/cases/{case_id}", "prepare a reassignment")
        return again(
            request,
            "assign.html",
            session,
            problem,
            case=case,
            values=values_of(form),
            failed=action,
            coaches=await coaches_of(request, session),
            regions=regions_of(request),
            offices=offices_of(request),
        )
    assert answer is not None
    target = f"/cases/{case_id}" if done == "assigned" else "/team"
    return go(done_url(target, done, position=answer.get("position")))
