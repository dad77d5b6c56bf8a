"""Moving many cases at once: a team lead hands a leaving coach's cases to a colleague, or
transfers cases to another region.

Before anything moves, the plan is checked: every case exists and is the team lead's to move, the
receiving coach works in the region, and the interviews planned on the moved cases do not clash
with the receiving coach's own (within one slot). A clash is reported and nothing moves unless
the team lead confirms. Then each case moves in a transaction of its own, with its own event;
a case that cannot move is listed with the reason, and no case is ever half moved.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from starlette.exceptions import HTTPException

from icam_auth import Principal
from icam_case import access, domain
from icam_kernel.application import Application, Caller
from icam_kernel.db import Connection
from icam_kernel.errors import DomainError, DomainRuleViolation


class ForeignCoach(DomainRuleViolation):
    """The receiving coach works in another region, or is not known to work in this one (422)."""

    code = "coach-of-another-region"


class AgendaConflicts(DomainError):
    """Interviews of the moved cases clash with the receiving coach's: confirm to move anyway (409)."""

    status = 409
    code = "agenda-conflicts"
    title = "Agenda conflicts"


@dataclass(frozen=True)
class Clash:
    """A moved case's planned interview close to one the receiving coach already has."""

    case_id: str
    at: datetime
    with_case_id: str
    with_at: datetime


@dataclass
class MoveReport:
    """What happened to each case of a bulk move."""

    moved: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[Clash] = field(default_factory=list)


_PLANNED = """select case_id, coach_id, region, next_interview_due from caseload
where case_id = any($1::uuid[]) and status <> 'closed'"""
_COACH_AGENDA = """select case_id, next_interview_due from caseload
where coach_id = $1 and status <> 'closed' and next_interview_due is not null"""
_COACH_REGIONS = "select distinct region from caseload where coach_id = $1 and status <> 'closed'"


async def coach_region(conn: Connection, coach_id: str, directory: dict[str, str]) -> str | None:
    """Where a coach works: the staff directory's word, else the region of the cases they hold."""
    if coach_id in directory:
        return directory[coach_id]
    regions = [r["region"] for r in await conn.fetch(_COACH_REGIONS, coach_id)]
    return regions[0] if len(regions) == 1 else None


async def clashes(
    conn: Connection, case_ids: Sequence[uuid.UUID], coach_id: str, slot: timedelta
) -> list[Clash]:
    """The moved cases' planned interviews within one slot of the receiving coach's (or of each other's)."""
    moved = [r for r in await conn.fetch(_PLANNED, list(case_ids)) if r["next_interview_due"] is not None]
    theirs = [r for r in await conn.fetch(_COACH_AGENDA, coach_id) if r["case_id"] not in case_ids]
    found: list[Clash] = []
    for i, row in enumerate(moved):
        for other in [*theirs, *moved[i + 1 :]]:
            if abs(row["next_interview_due"] - other["next_interview_due"]) < slot:
                found.append(
                    Clash(
                        str(row["case_id"]),
                        row["next_interview_due"],
                        str(other["case_id"]),
                        other["next_interview_due"],
                    )
                )
    return found


async def move_each(
    application: Application,
    principal: Principal,
    case_ids: Sequence[uuid.UUID],
    decide: Callable[[domain.Case], list[Any]],
) -> MoveReport:
    """Every case in a transaction of its own; a refusal is listed, the others still move."""
    report = MoveReport()
    for case_id in dict.fromkeys(case_ids):
        try:
            result = await application.execute(
                domain.CASE,
                str(case_id),
                decide,
                Caller(principal),
                authorize=access.may_reassign,
                command="bulk move",
            )
        except DomainError as refused:
            report.failed.append({"case_id": str(case_id), "reason": str(refused), "type": refused.code})
        except HTTPException as refused:  # `authorize`: not a case of the team lead's region
            report.failed.append(
                {"case_id": str(case_id), "reason": str(refused.detail), "type": "forbidden"}
            )
        else:
            report.moved.append(
                {
                    "case_id": str(case_id),
                    "stream_version": result.stream_version,
                    "position": result.position,
                }
            )
    return report
