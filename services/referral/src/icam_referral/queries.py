"""Queries on the read model: the partner inbox, one referral, the referral pipeline (counts)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from icam_kernel.db import Connection
from icam_referral.projections import deadline_status

_INBOX = """
select referral_id, case_id, status, attempt, referred_at, acknowledge_by, acknowledged_at, overdue,
       language, region, member_count, count(*) over () as total
from referral_view where partner = $1 and status in ('referred', 'acknowledged')
order by referred_at, referral_id limit $2 offset $3
"""

_PIPELINE = """
select partner, coalesce(region, 'unknown') as region,
       to_char(referred_at at time zone 'Europe/Brussels', 'YYYY-MM') as month,
       count(*) as referred,
       count(acknowledged_at) as acknowledged,
       count(*) filter (where status = 'departed') as departed,
       count(*) filter (where status = 'withdrawn') as withdrawn,
       count(*) filter (where status = 'rejected') as rejected,
       count(*) filter (where status in ('referred', 'acknowledged')) as open,
       count(*) filter (where overdue) as overdue,
       count(*) filter (where reintegration) as reintegration_support,
       round((avg(extract(epoch from acknowledged_at - referred_at)) / 3600)::numeric, 1)::float8
           as avg_hours_to_acknowledgement,
       round(avg(departed_on - (referred_at at time zone 'Europe/Brussels')::date)::numeric, 1)::float8
           as avg_days_to_departure
from referral_view
where ($1::text is null or partner = $1) and ($2::text is null or region = $2)
  and ($3::text is null or to_char(referred_at at time zone 'Europe/Brussels', 'YYYY-MM') >= $3)
  and ($4::text is null or to_char(referred_at at time zone 'Europe/Brussels', 'YYYY-MM') <= $4)
group by 1, 2, 3 order by 3, 1, 2
"""

_NOT_MADE = """
select not_made as reason, coalesce(region, 'unknown') as region,
       to_char(decided_at at time zone 'Europe/Brussels', 'YYYY-MM') as month, count(*) as count
from referral_decisions
where not_made is not null and ($1::text is null or region = $1)
  and ($2::text is null or to_char(decided_at at time zone 'Europe/Brussels', 'YYYY-MM') >= $2)
  and ($3::text is null or to_char(decided_at at time zone 'Europe/Brussels', 'YYYY-MM') <= $3)
group by 1, 2, 3 order by 3, 1, 2
"""


@dataclass(frozen=True)
class PipelineFilter:
    """Which part of the pipeline to count."""

    partner: str | None = None
    region: str | None = None
    month_from: str | None = None
    month_to: str | None = None


async def inbox(
    conn: Connection, partner: str, *, limit: int, offset: int, now: datetime, due_soon: timedelta
) -> tuple[list[dict[str, Any]], int]:
    """A partner's open referrals, oldest first, with their deadline status; and how many in all."""
    rows = await conn.fetch(_INBOX, partner, limit, offset)
    items = []
    for row in rows:
        item = {k: v for k, v in dict(row).items() if k not in ("total", "acknowledged_at")}
        item["acknowledged"] = row["acknowledged_at"] is not None
        item["deadline_status"] = (
            None if item["acknowledged"] else deadline_status(row["acknowledge_by"], now, due_soon)
        )
        items.append(item)
    total = rows[0]["total"] if rows else await _open_count(conn, partner)
    return items, total


async def _open_count(conn: Connection, partner: str) -> int:
    value = await conn.fetchval(
        "select count(*) from referral_view where partner = $1 and status in ('referred', 'acknowledged')",
        partner,
    )
    return int(value)


async def referral(conn: Connection, referral_id: UUID) -> dict[str, Any] | None:
    """One referral with the personal data it carries (partners and coaches only)."""
    row = await conn.fetchrow(
        "select *, members::text as members_json from referral_view where referral_id = $1", referral_id
    )
    if row is None:
        return None
    item = {k: v for k, v in dict(row).items() if k not in ("members", "members_json", "position")}
    item["members"] = json.loads(row["members_json"])
    return item


async def referrals_of_case(conn: Connection, case_id: UUID) -> list[dict[str, Any]]:
    """Every referral of a case, the latest attempt first."""
    rows = await conn.fetch(
        """select referral_id from referral_view where case_id = $1
           order by referred_at desc, attempt desc, referral_id""",
        case_id,
    )
    found = [await referral(conn, row["referral_id"]) for row in rows]
    return [r for r in found if r is not None]


async def coach_of_referral(conn: Connection, referral_id: UUID) -> str | None:
    """The coach of the referral's case, as the case events told this service."""
    value = await conn.fetchval(
        """select h.coach_id from referral_view v join households h on h.case_id = v.case_id
           where v.referral_id = $1""",
        referral_id,
    )
    return str(value) if value is not None else None


async def pipeline(conn: Connection, where: PipelineFilter) -> dict[str, Any]:
    """Counts per partner, region and month, and the decisions that led to no referral."""
    rows = await conn.fetch(_PIPELINE, where.partner, where.region, where.month_from, where.month_to)
    not_made = await conn.fetch(_NOT_MADE, where.region, where.month_from, where.month_to)
    return {"rows": [dict(r) for r in rows], "not_made": [dict(r) for r in not_made]}
