"""Every read of personal data is audited, whichever door it came through (ADR 0015).

The gateway audits the reads it forwards (its `audit_log`). A service reached directly — a valid
token, but not through the gateway — audits the read itself, into its own `access_audit` table,
before the answer leaves; if the row cannot be written, the data is not served (503).

The gateway proves that it audited a read with `X-Audit-Proof`: `<issued>.<hmac>`, an HMAC-SHA256
under a secret the gateway and the services share (`ICAM_AUDIT_PROOF_SECRET`) of the request id,
method and path it forwards, and of when it signed (valid for `PROOF_MAX_AGE`). A service that gets
no proof, a wrong one, a stale one, or has no secret itself audits the read: a missing secret
means reads audited twice, never reads not audited.

`GET /audit/direct` (auditors) lists a service's own rows; the gateway's `GET /api/audit` merges
them with its log.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import asyncpg
from fastapi import Request
from pydantic import BaseModel

from icam_auth import Principal
from icam_kernel.errors import DomainError
from icam_kernel.redaction import audit_query, scrub

if TYPE_CHECKING:
    from icam_auth.policy import Route

PROOF_HEADER = "x-audit-proof"
SECRET_VARIABLE = "ICAM_AUDIT_PROOF_SECRET"
PROOF_MAX_AGE = 120.0  # seconds between the gateway signing and the service checking
MAX_ROWS = 10_500  # what one search returns at most (the gateway merges pages of every service)

_COLUMNS = """id, at, subject, role, region, organisation, method, path, query, status, purpose,
    request_id, correlation_id"""


class AuditUnavailable(DomainError):
    """A read of personal data could not be audited, so it is not served (503): retry."""

    status = 503
    code = "audit-unavailable"
    title = "Audit unavailable"


@dataclass(frozen=True)
class AuditProof:
    """Signs (the gateway) and checks (a service) that the gateway audited a forwarded read."""

    secret: bytes | None

    @classmethod
    def from_env(cls) -> AuditProof:
        secret = os.environ.get(SECRET_VARIABLE, "")
        return cls(secret.encode() if secret else None)

    def sign(self, request_id: str, method: str, path: str, issued: float | None = None) -> str | None:
        """The proof for one forwarded read, or None without a secret (the service then audits)."""
        if self.secret is None:
            return None
        at = str(int(time.time() if issued is None else issued))
        return f"{at}.{self._mac(at, request_id, method, path)}"

    def verify(self, proof: str | None, request_id: str | None, method: str, path: str) -> bool:
        if self.secret is None or not proof or not request_id or "." not in proof:
            return False
        at, mac = proof.split(".", 1)
        if not at.isdigit() or abs(time.time() - int(at)) > PROOF_MAX_AGE:
            return False
        return hmac.compare_digest(mac, self._mac(at, request_id, method, path))

    def _mac(self, at: str, request_id: str, method: str, path: str) -> str:
        assert self.secret is not None
        message = "\n".join((at, request_id, method.upper(), path)).encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class DirectRead:
    """One read of personal data a service served without the gateway's proof."""

    principal: Principal
    method: str
    path: str
    query: str
    status: int
    purpose: str
    request_id: str
    correlation_id: str


@dataclass(frozen=True)
class DirectReadAudit:
    """What a service's routes need to audit: its pool (once started) and the proof checker."""

    pool: Callable[[], asyncpg.Pool]
    proof: AuditProof

    async def record(self, read: DirectRead) -> None:
        p = read.principal
        await self.pool().execute(
            "insert into access_audit (subject, role, region, organisation, method, path, query, status,"
            " purpose, request_id, correlation_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            p.subject,
            p.role.value,
            p.region,
            p.organisation,
            read.method,
            read.path,
            read.query,
            read.status,
            read.purpose,
            read.request_id,
            read.correlation_id,
        )


def _header_text(request: Request, name: str) -> str | None:
    """A header as the client wrote it (UTF-8; Starlette reads header bytes as Latin-1)."""
    value = request.headers.get(name)
    return None if value is None else value.encode("latin-1").decode("utf-8", errors="replace")


def audited_by_gateway(request: Request, audit: DirectReadAudit) -> bool:
    proof = request.headers.get(PROOF_HEADER)
    rid = request.headers.get("x-request-id")
    return audit.proof.verify(proof, rid, request.method, request.url.path)


async def audit_read(request: Request, row: Route, status: int) -> None:
    """Audit a served read of personal data unless the gateway proves it audited it; raises
    AuditUnavailable (the read is not served) when the row cannot be written."""
    audit: DirectReadAudit | None = getattr(request.app.state, "access_audit", None)
    if audit is None:
        raise AuditUnavailable("this service has no audit of direct reads: it serves no personal data")
    if audited_by_gateway(request, audit):
        return
    request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
    read = DirectRead(
        principal=request.state.principal,
        method=request.method,
        path=request.url.path,
        query=audit_query(request.url.query),
        status=status,
        purpose=scrub(_header_text(request, "x-purpose") or row.purpose),
        request_id=request_id,
        correlation_id=request.headers.get("x-correlation-id") or request_id,
    )
    try:
        await audit.record(read)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
        raise AuditUnavailable(f"the read could not be audited ({type(error).__name__}): retry") from error


class DirectReadRow(BaseModel):
    """One audited direct read, as `GET /audit/direct` lists it."""

    id: int
    at: datetime
    subject: str
    role: str
    region: str | None
    organisation: str | None
    method: str
    path: str
    query: str
    status: int
    purpose: str
    request_id: str
    correlation_id: str


async def search(
    pool: asyncpg.Pool,
    *,
    subject: str | None = None,
    path_contains: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[DirectReadRow]:
    """The newest direct reads first, filtered like the gateway's audit log."""
    rows = await pool.fetch(
        f"select {_COLUMNS} from access_audit"
        " where ($1::text is null or subject = $1) and ($2::text is null or path like '%' || $2 || '%')"
        " and ($3::timestamptz is null or at >= $3) order by at desc, id desc limit $4 offset $5",
        subject,
        path_contains,
        since,
        limit,
        offset,
    )
    return [DirectReadRow(**dict(row)) for row in rows]
