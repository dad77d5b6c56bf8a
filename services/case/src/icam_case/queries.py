"""Queries over the read models and the case stream, with paging; shaping for the caller's role."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from uuid import UUID

from anyascii import anyascii

from icam_auth import Principal
from icam_case.access import sees_identity, sees_vulnerability_categories, sees_vulnerability_details
from icam_case.domain import Case
from icam_case.domain.state import Decision, DossierElement, Interview, Member
from icam_case.schemas import CaseloadItem, CaseView, CoachWorkload, Page, StatsRow, TaskItem, TimelineEntry
from icam_case.timeline import describe
from icam_contracts.events.decisions import OutcomeProposed
from icam_kernel import sealing
from icam_kernel.db import Connection


def case_view(case: Case, principal: Principal, as_of: datetime | None) -> CaseView:
    """The case for this caller: vulnerability details and notes only when they need to know."""
    assert case.case_id is not None and case.household_id is not None
    details = sees_vulnerability_details(principal, case)
    categories = details or sees_vulnerability_categories(principal, case)
    return CaseView(
        case_id=case.case_id,
        household_id=case.household_id,
        version=case.version,
        as_of=as_of,
        status=case.status.value,
        region=case.region,
        office=case.office,
        coach_id=case.coach_id,
        entry_channel=case.entry_channel.value if case.entry_channel else None,
        language=case.language.value,
        opened_at=case.opened_at,
        members=[
            _member(m, categories, details, identity=sees_identity(principal, case)) for m in case.members
        ],
        interviews_held=case.interviews_held,
        interviews=[_interview(i, details) for i in case.interviews],
        last_interview_at=case.last_interview_at,
        next_interview_due=case.next_appointment_at,
        consecutive_no_shows=case.consecutive_no_shows,
        dossier_elements=[_element(e) for e in case.elements],
        decisions=[_decision(d) for d in case.decisions],
        pending_decision=_proposal(case.pending) if case.pending else None,
        outcome_reopened=case.outcome_reopened,
        referral_status=case.referral_status.value if case.referral_status else None,
        suspension_reason=case.suspension_reason.value if case.suspension_reason else None,
        suspension_review_on=case.suspension_review_on,
        closure_reason=case.closure_reason.value if case.closure_reason else None,
        closed_at=case.closed_at,
        flags=list(case.flags),
    )


def _member(member: Member, categories: bool, details: bool, identity: bool) -> dict[str, Any]:
    flags = [
        {
            "categories": [c.value for c in v.categories] if categories else None,
            "details": v.details if details else None,
            "flagged_at": v.flagged_at.isoformat(),
        }
        for v in member.vulnerabilities
    ]
    known = member.identity if identity else None
    return {
        "person_id": member.person_id,
        "role": member.role.value,
        "left": member.left,
        "given_name": known.given_name if known else None,
        "family_name": known.family_name if known else None,
        "birth_date": known.birth_date.isoformat() if known and known.birth_date else None,
        "preferred_language": known.preferred_language.value if known and known.preferred_language else None,
        "vulnerabilities": flags if categories else [],
    }


def _interview(interview: Interview, details: bool) -> dict[str, Any]:
    return {
        "interview_id": str(interview.interview_id),
        "sequence_number": interview.sequence_number,
        "kind": interview.kind.value,
        "held_at": interview.held_at.isoformat(),
        "language": interview.language.value,
        "interpreter_present": interview.interpreter_present,
        "attendees": list(interview.attendees),
        "topics": list(interview.topics),
        "notes": interview.notes if details else None,
    }


def _element(element: DossierElement) -> dict[str, Any]:
    return {
        "element_id": str(element.element_id),
        "person_id": element.person_id,
        "element": element.kind.value,
        "requested_at": element.requested_at.isoformat(),
        "received_at": element.received_at.isoformat() if element.received_at else None,
    }


def _decision(decision: Decision) -> dict[str, Any]:
    return {
        "decision_id": str(decision.decision_id),
        "outcome": decision.outcome.value,
        "decided_at": decision.decided_at.isoformat(),
        "consent_to_referral": decision.consent_to_referral,
        "revises_decision_id": str(decision.revises_decision_id) if decision.revises_decision_id else None,
    }


def _proposal(proposal: OutcomeProposed) -> dict[str, Any]:
    """An outcome awaiting a team lead's approval: what it says and who proposed it."""
    return {
        "decision_id": str(proposal.decision_id),
        "outcome": proposal.outcome.value,
        "proposed_by": proposal.provenance.decided_by,
        "rationale": proposal.rationale,
        "communicated": proposal.communicated,
        "revises_decision_id": str(proposal.revises_decision_id) if proposal.revises_decision_id else None,
    }


async def caseload(
    conn: Connection,
    *,
    region: str | None,
    coach: str | None,
    status: str | None,
    due_before: datetime | None,
    flag: str | None,
    limit: int,
    offset: int,
    q: str | None = None,
) -> Page[CaseloadItem]:
    """Cases matching every filter given, soonest interview first, then oldest; `q` finds a member
    by dossier reference or name (any script: compared in lowercase Latin letters)."""
    where = """($1::text is null or region = $1) and ($2::text is null or coach_id = $2)
        and ($3::text is null or status = $3) and ($4::timestamptz is null or next_interview_due <= $4)
        and ($5::text is null or $5 = any(flags))
        and ($6::text is null or strpos(search, $6) > 0 or case_id::text = $6)"""
    wanted = anyascii(q).lower().strip() if q else None
    args = (region, coach, status, due_before, flag, wanted or None)
    total = await conn.fetchval(f"select count(*) from caseload where {where}", *args)
    rows = await conn.fetch(
        f"""select * from caseload where {where}
            order by next_interview_due asc nulls last, opened_at, case_id limit $7 offset $8""",
        *args,
        limit,
        offset,
    )
    items = [CaseloadItem.model_validate({**dict(r), "flags": list(r["flags"])}) for r in rows]  # no search
    return Page[CaseloadItem](items=items, limit=limit, offset=offset, total=int(total))


_TIMELINE = """
select e.event_id, e.event_type, e.data::text as data, e.actor::text as actor, e.occurred_at, e.recorded_at,
       'case' as source, e.stream_version as seq
from events e where e.stream_id = $1
union all
select r.event_id, r.event_type, r.data::text, r.actor::text, r.occurred_at, r.recorded_at,
       split_part(r.topic, '.', greatest(array_length(string_to_array(r.topic, '.'), 1) - 1, 1)), 0
from received_events r where r.case_id = $2
"""


async def timeline(conn: Connection, case_id: UUID, *, limit: int, offset: int) -> Page[TimelineEntry]:
    """Every event of the case and of its household's journey that it received, in order.

    Order: when it happened, then when it was recorded; a received fact comes before the case
    events it caused in the same transaction (seq 0), case events in stream order."""
    total = await conn.fetchval(f"select count(*) from ({_TIMELINE}) t", str(case_id), case_id)
    rows = await conn.fetch(
        f"select * from ({_TIMELINE}) t order by occurred_at, recorded_at, seq, event_id limit $3 offset $4",
        str(case_id),
        case_id,
        limit,
        offset,
    )
    payloads = await sealing.open_all([json.loads(r["data"]) for r in rows])
    items = [
        TimelineEntry(
            occurred_at=r["occurred_at"],
            recorded_at=r["recorded_at"],
            source=r["source"],
            event_type=r["event_type"],
            event_id=r["event_id"],
            actor_role=json.loads(r["actor"]).get("role"),
            text=describe(r["event_type"], data),
        )
        for r, data in zip(rows, payloads, strict=True)
    ]
    return Page[TimelineEntry](items=items, limit=limit, offset=offset, total=int(total))


async def outcome_stats(
    conn: Connection, *, region: str | None, since: date | None, until: date | None, limit: int, offset: int
) -> Page[StatsRow]:
    """Counts per region and month, newest month first."""
    where = """($1::text is null or region = $1) and ($2::date is null or month >= $2)
        and ($3::date is null or month <= $3)"""
    keys = await conn.fetch(
        f"""select region, month from outcome_counts where {where}
            union select region, month from time_to_outcome where {where}
            order by month desc, region limit $4 offset $5""",
        region,
        since,
        until,
        limit,
        offset,
    )
    total = await conn.fetchval(
        f"""select count(*) from (select region, month from outcome_counts where {where}
            union select region, month from time_to_outcome where {where}) k""",
        region,
        since,
        until,
    )
    items = [await _stats_row(conn, k["region"], k["month"]) for k in keys]
    return Page[StatsRow](items=items, limit=limit, offset=offset, total=int(total))


async def _stats_row(conn: Connection, region: str, month: date) -> StatsRow:
    counts: dict[str, dict[str, int]] = {
        k: {} for k in ("opened", "outcome", "revision", "suspension", "closure")
    }
    for r in await conn.fetch(
        "select kind, value, count from outcome_counts where region = $1 and month = $2", region, month
    ):
        counts.setdefault(r["kind"], {})[r["value"]] = r["count"]
    timing: Any = await conn.fetchrow(
        "select cases, total_days from time_to_outcome where region = $1 and month = $2", region, month
    )
    cases = int(timing["cases"]) if timing else 0
    return StatsRow(
        region=region,
        month=month,
        opened=counts["opened"],
        outcomes=counts["outcome"],
        revisions=counts["revision"],
        suspensions=counts["suspension"],
        closures=counts["closure"],
        first_outcomes=cases,
        average_days_to_outcome=round(timing["total_days"] / cases, 2) if cases else None,
    )


async def tasks(
    conn: Connection,
    *,
    region: str | None,
    coach: str | None,
    overdue_only: bool,
    kind: str | None,
    for_team_lead: bool | None,
    limit: int,
    offset: int,
) -> Page[TaskItem]:
    """Tasks matching every filter, the most overdue first."""
    where = """($1::text is null or region = $1) and ($2::text is null or coach_id = $2)
        and (not $3 or due_at < now()) and ($4::text is null or kind = $4)
        and ($5::boolean is null or for_team_lead = $5)"""
    args = (region, coach, overdue_only, kind, for_team_lead)
    total = await conn.fetchval(f"select count(*) from case_tasks where {where}", *args)
    rows = await conn.fetch(
        f"""select *, due_at < now() as overdue from case_tasks where {where}
            order by due_at, case_id, kind limit $6 offset $7""",
        *args,
        limit,
        offset,
    )
    return Page[TaskItem](
        items=[TaskItem.model_validate(dict(r)) for r in rows], limit=limit, offset=offset, total=int(total)
    )


async def overdue_by_coach(conn: Connection, region: str | None) -> list[CoachWorkload]:
    """For a team lead: per coach of the region, how many tasks are overdue, of which kinds."""
    rows = await conn.fetch(
        """select coalesce(coach_id, '') as coach_id, count(*) as open,
                  count(*) filter (where due_at < now()) as overdue,
                  coalesce(jsonb_object_agg(kind, n) filter (where n > 0), '{}')::text as by_kind
           from (select coach_id, kind, count(*) filter (where due_at < now()) as n,
                        count(*) as all_of_kind, min(due_at) as due_at
                 from case_tasks where ($1::text is null or region = $1) and not for_team_lead
                 group by coach_id, kind) k
           group by coach_id order by overdue desc, coach_id""",
        region,
    )
    return [
        CoachWorkload(
            coach_id=r["coach_id"] or None,
            open=r["open"],
            overdue=r["overdue"],
            overdue_by_kind=json.loads(r["by_kind"]),
        )
        for r in rows
    ]
