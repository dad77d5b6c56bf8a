"""Forwarding a call to the service that owns it, with timeouts and honest errors.

A service that does not answer is a 503, one that answers too late a 504, one that fails with
a 5xx a 502 — always as problem+json naming the service, never a bare stack trace or its text.
A read of personal data the gateway audits carries `X-Audit-Proof` (ADR 0015); a client's own
`X-Audit-Proof` is never passed on (only the headers below are). Headers are
passed on as the bytes the client sent, so a French or Dutch `X-Purpose` arrives intact (UTF-8).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from fastapi import Request
from fastapi.responses import Response

from icam_kernel.access_audit import PROOF_HEADER
from icam_kernel.errors import DomainRuleViolation
from icam_kernel.http import problem

FORWARDED_REQUEST_HEADERS = frozenset(
    {b"authorization", b"content-type", b"accept", b"idempotency-key", b"x-purpose", b"x-correlation-id"}
)
FORWARDED_RESPONSE_HEADERS = (
    "content-type",
    "location",
    "retry-after",
    "etag",
    "content-disposition",
    "idempotent-replayed",
)


@dataclass(frozen=True)
class Upstream:
    """What a service answered, already read."""

    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> object:
        return json.loads(self.body)


class UpstreamError(Exception):
    """The service could not give an answer; carries the problem response to return."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class InvalidHeader(DomainRuleViolation):
    """A tracing header that is not a UUID (422): it would name a household's journey."""

    code = "invalid-header"
    title = "Invalid header"


def header_text(request: Request, name: str) -> str | None:
    """A header as the client wrote it: UTF-8 (Starlette reads header bytes as Latin-1)."""
    value = request.headers.get(name)
    if value is None:
        return None
    return value.encode("latin-1").decode("utf-8", errors="replace")


def request_id(request: Request) -> str:
    """The id tying this request's log lines and audit row together: the client's `X-Request-Id`
    when it is a UUID, else a fresh one. A client's `X-Correlation-Id` (a household's journey id)
    is passed on to the services, who only use it at a household's first contact (ADR 0004)."""
    given = request.headers.get("x-request-id")
    return str(_uuid_or_none(given) or uuid.uuid4())


def check_correlation(request: Request) -> None:
    given = request.headers.get("x-correlation-id")
    if given is not None and _uuid_or_none(given) is None:
        raise InvalidHeader(
            "X-Correlation-Id must be a UUID (a household's journey id)", field="X-Correlation-Id"
        )


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def call(
    client: httpx.AsyncClient,
    base_url: str,
    service: str,
    method: str,
    path: str,
    *,
    params: Sequence[tuple[str, str]] | None = None,
    body: bytes | None = None,
    headers: Sequence[tuple[bytes, bytes]] | None = None,
) -> Upstream:
    """One upstream call; UpstreamError (502/503/504 problem) when the service fails us."""
    try:
        response = await client.request(
            method,
            f"{base_url}{path}",
            params=httpx.QueryParams(list(params or ())),
            content=body,
            headers=list(headers or ()),
        )
    except httpx.TimeoutException as exc:
        raise UpstreamError(
            problem(
                504,
                "Service timeout",
                f"the {service} service did not answer in time",
                kind="service-timeout",
                service=service,
            )
        ) from exc
    except httpx.TransportError as exc:
        raise UpstreamError(
            problem(
                503,
                "Service unavailable",
                f"the {service} service is unavailable",
                kind="service-unavailable",
                service=service,
            )
        ) from exc
    if response.status_code >= 500 and response.status_code not in (503, 504):
        raise UpstreamError(
            problem(
                502,
                "Bad gateway",
                f"the {service} service failed (status {response.status_code})",
                kind="bad-gateway",
                service=service,
            )
        )
    kept = {k: v for k, v in response.headers.items() if k.lower() in FORWARDED_RESPONSE_HEADERS}
    return Upstream(response.status_code, response.content, kept)


def forwarded_headers(
    request: Request, request_id: str, audit_proof: str | None = None
) -> list[tuple[bytes, bytes]]:
    """The client's headers a service needs, byte for byte, and the gateway's request id; with
    `audit_proof`, the proof that the gateway audits this read (the service then does not)."""
    kept = [(name, value) for name, value in request.headers.raw if name in FORWARDED_REQUEST_HEADERS]
    proof = [(PROOF_HEADER.encode(), audit_proof.encode())] if audit_proof else []
    return [*kept, (b"x-request-id", request_id.encode()), *proof]


def to_response(upstream: Upstream, request_id: str) -> Response:
    headers = dict(upstream.headers) | {"x-request-id": request_id}
    media_type = headers.pop("content-type", None)
    return Response(upstream.body, status_code=upstream.status, headers=headers, media_type=media_type)
