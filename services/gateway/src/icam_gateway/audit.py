"""The audit log: every read of personal data — who, what, when, why — in the gateway's database.

An audit row is written before the personal data leaves the gateway; if it cannot be written,
the data is not served (503), so no read goes unrecorded.

A read that reached a service directly (a valid token, not through the gateway) is audited by that
service (`icam_kernel.access_audit`, ADR 0015); `merged` lists both doors newest first, each row
saying which door (`gateway` or `direct`) and which service.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from fastapi import Request

from icam_auth import Principal
from icam_gateway import proxy
from icam_gateway.config import SERVICES
from icam_gateway.runtime import Runtime
from icam_kernel.access_audit import MAX_ROWS
from icam_kernel.errors import DomainError, DomainRuleViolation
from icam_kernel.redaction import audit_query, scrub

DOORS = ("all", "gateway", "direct")


class AuditIncomplete(DomainError):
    """A service's own audit of direct reads could not be read: the merged log would miss rows
    (503); retry, or ask for `door=gateway`."""

    status = 503
    code = "audit-incomplete"
    title = "Audit log incomplete"


class AuditPageTooDeep(DomainRuleViolation):
    """Merging every service's rows goes `MAX_ROWS` deep at most: narrow with `since` (422)."""

    code = "audit-page-too-deep"
    title = "Audit page too deep"


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
    """Keep the read, with its query's personal values (a name search) masked and its purpose
    scrubbed: the audit holds who read what by id, never the personal data itself."""
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
        audit_query(entry.query),
        entry.status,
        scrub(entry.purpose),
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


@dataclass(frozen=True)
class AuditSearch:
    """The auditor's criteria, the same for the gateway's log and each service's direct reads."""

    subject: str | None = None
    path_contains: str | None = None
    since: datetime | None = None
    limit: int = 100
    offset: int = 0

    def filters(self) -> dict[str, Any]:
        return {"subject": self.subject, "path_contains": self.path_contains, "since": self.since}


async def merged(rt: Runtime, request: Request, door: str, criteria: AuditSearch) -> list[dict[str, Any]]:
    """The reads of `door` (`all`, `gateway`, `direct`), newest first, each naming its door and
    service; a page of a merged log reads the first `offset + limit` rows of every source."""
    if door == "gateway":
        own = await search(rt.pool, **criteria.filters(), limit=criteria.limit, offset=criteria.offset)
        return [_of_door(row, "gateway", "gateway") for row in own]
    depth = criteria.offset + criteria.limit
    if depth > MAX_ROWS:
        raise AuditPageTooDeep(
            f"offset + limit may reach {MAX_ROWS} rows at most: narrow with since", field="offset"
        )
    sources = [_direct_reads(rt, request, service, criteria, depth) for service in SERVICES]
    if door == "all":
        sources.append(_gateway_reads(rt, criteria, depth))
    rows = [row for part in await asyncio.gather(*sources) for row in part]
    rows.sort(key=lambda row: (row["at"], row["id"]), reverse=True)
    return rows[criteria.offset : depth]


async def _gateway_reads(rt: Runtime, criteria: AuditSearch, depth: int) -> list[dict[str, Any]]:
    own = await search(rt.pool, **criteria.filters(), limit=depth, offset=0)
    return [_of_door(row, "gateway", "gateway") for row in own]


async def _direct_reads(
    rt: Runtime, request: Request, service: str, criteria: AuditSearch, depth: int
) -> list[dict[str, Any]]:
    """A service's own audit rows, read with the auditor's token."""
    params = [
        (k, v.isoformat() if isinstance(v, datetime) else v) for k, v in criteria.filters().items() if v
    ]
    url = rt.settings.service_urls.get(service)
    if url is None:
        raise AuditIncomplete(f"the gateway has no address for the {service} service", service=service)
    try:
        answer = await proxy.call(
            rt.client,
            url,
            service,
            "GET",
            "/audit/direct",
            params=[*params, ("limit", str(depth))],
            headers=proxy.forwarded_headers(request, proxy.request_id(request)),
        )
    except proxy.UpstreamError as error:
        raise AuditIncomplete(
            f"the {service} service's direct reads are unavailable", service=service
        ) from error
    if answer.status != 200:
        raise AuditIncomplete(f"the {service} service's direct reads are unavailable", service=service)
    rows = answer.json()
    assert isinstance(rows, list)
    return [_of_door({**row, "at": datetime.fromisoformat(row["at"])}, "direct", service) for row in rows]


def _of_door(row: Mapping[str, Any], door: str, service: str) -> dict[str, Any]:
    return {**row, "door": door, "service": service}
