"""The audit log: every read of personal data — who, what, when, why — in the gateway's database.

An audit row is written before the personal data leaves the gateway; if it cannot be written,
the data is not served (503), so no read goes unrecorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from icam_auth import Principal

SCHEMA = """
create table if not exists audit_log (
    id bigserial primary key,
    at timestamptz not null default now(),
    subject text not null,
    role text not null,
    region text,
    organisation text,
    method text not null,
    path text not null,
    query text not null default '',
    status int not null,
    purpose text not null,
    correlation_id text not null
);
create index if not exists audit_log_subject_at on audit_log (subject, at);
create index if not exists audit_log_at on audit_log (at);
"""


@dataclass(frozen=True)
class AuditEntry:
    principal: Principal
    method: str
    path: str
    query: str
    status: int
    purpose: str
    correlation_id: str


async def migrate(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute(SCHEMA)


async def record(pool: asyncpg.Pool, entry: AuditEntry) -> None:
    p = entry.principal
    await pool.execute(
        "insert into audit_log (subject, role, region, organisation, method, path, query, status, purpose,"
        " correlation_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        p.subject,
        p.role.value,
        p.region,
        p.organisation,
        entry.method,
        entry.path,
        entry.query,
        entry.status,
        entry.purpose,
        entry.correlation_id,
    )


async def search(
    pool: asyncpg.Pool,
    *,
    subject: str | None,
    path_contains: str | None,
    since: datetime | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "select id, at, subject, role, region, organisation, method, path, query, status, purpose,"
        " correlation_id from audit_log"
        " where ($1::text is null or subject = $1) and ($2::text is null or path like '%' || $2 || '%')"
        " and ($3::timestamptz is null or at >= $3) order by id desc limit $4 offset $5",
        subject,
        path_contains,
        since,
        limit,
        offset,
    )
    return [dict(row) for row in rows]
