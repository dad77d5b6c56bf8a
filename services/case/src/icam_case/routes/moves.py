"""Bulk moves over HTTP (team leads): hand many cases to another coach, or transfer them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from icam_case import domain, moves
from icam_case.config import CaseSettings
from icam_case.schemas import BulkReassignIn, BulkTransferIn, MoveReportOut
from icam_kernel.http_commands import Command
from icam_kernel.http_queries import settings_of
from icam_kernel.routing import PolicyRouter

router = PolicyRouter("case")
Settings = Annotated[CaseSettings, Depends(settings_of)]


def _report(report: moves.MoveReport) -> MoveReportOut:
    return MoveReportOut(
        moved=report.moved,
        failed=report.failed,
        conflicts=[c.__dict__ for c in report.conflicts],
    )


@router.post("/moves/reassignment", summary="Hand many cases to another coach of the region (team lead)")
async def reassign_cases(body: BulkReassignIn, command: Command, settings: Settings) -> MoveReportOut:
    """Refused when the coach works elsewhere; 409 with the clashes when their agenda and the moved
    cases' interviews collide (send `confirm: true` to move anyway); then each case on its own."""
    lead, app = command.principal, command.application
    async with app.pool.acquire() as conn:
        region = await moves.coach_region(conn, body.to_coach, settings.staff)
        if region != lead.region:
            raise moves.ForeignCoach(
                f"{body.to_coach} does not work in region {lead.region}",
                field="to_coach",
                coach_region=region,
            )
        clashes = await moves.clashes(conn, body.case_ids, body.to_coach, settings.slot)
    if clashes and not body.confirm:
        conflicts: list[dict[str, Any]] = [{k: str(v) for k, v in c.__dict__.items()} for c in clashes]
        raise moves.AgendaConflicts(
            f"{len(clashes)} planned interviews clash with {body.to_coach}'s agenda: nothing moved",
            conflicts=conflicts,
        )
    report = await moves.move_each(
        app,
        lead,
        body.case_ids,
        lambda case: domain.assign_coach(case, body.to_coach, assigned_by=lead.subject),
    )
    report.conflicts = clashes
    return _report(report)


@router.post("/moves/transfer", summary="Transfer many cases to another region's office (team lead)")
async def transfer_cases(body: BulkTransferIn, command: Command, settings: Settings) -> MoveReportOut:
    """Each case on its own; a case that cannot go (closed, already there, not yours) is listed."""
    offices = {o.code for o in settings.reference.offices_in(body.to_region)}
    if body.to_office not in offices:
        raise domain.CaseRuleViolation(
            f"office {body.to_office!r} is not in region {body.to_region!r}", field="to_office"
        )
    report = await moves.move_each(
        command.application,
        command.principal,
        body.case_ids,
        lambda case: domain.transfer(
            case, body.to_region, body.to_office, body.reason, offices_of_region=offices
        ),
    )
    return _report(report)
