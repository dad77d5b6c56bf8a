"""Forwarding a call to the service that owns it, with timeouts and honest errors.

A service that does not answer is a 503, one that answers too late a 504, one that fails with
a 5xx a 502 — always as problem+json naming the service, never a bare stack trace.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from fastapi import Request
from fastapi.responses import Response

from icam_gateway.problems import problem

FORWARDED_REQUEST_HEADERS = ("authorization", "content-type", "accept", "idempotency-key", "x-purpose")
FORWARDED_RESPONSE_HEADERS = ("content-type", "location", "retry-after", "etag", "content-disposition")


@dataclass(frozen=True)
class Upstream:
    """What a service answered, already read."""

    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> object:
        import json

        return json.loads(self.body)


class UpstreamError(Exception):
    """The service could not give an answer; carries the problem response to return."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def correlation_id(request: Request) -> str:
    """The id tying this request's log lines and audit row together.

    A client's `X-Correlation-Id` (a household's journey id) is passed on; otherwise the gateway
    names the request with a fresh id of its own, sent as `X-Request-Id` only — the services keep
    the journey id of the household they already know.
    """
    return request.headers.get("x-correlation-id") or request.headers.get("x-request-id") or str(uuid.uuid4())


async def call(
    client: httpx.AsyncClient,
    base_url: str,
    service: str,
    method: str,
    path: str,
    *,
    params: Sequence[tuple[str, str]] | None = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Upstream:
    """One upstream call; UpstreamError (502/503/504 problem) when the service fails us."""
    try:
        response = await client.request(
            method,
            f"{base_url}{path}",
            params=httpx.QueryParams(list(params or ())),
            content=body,
            headers=headers,
        )
    except httpx.TimeoutException as exc:
        raise UpstreamError(
            problem(504, "Service timeout", f"the {service} service did not answer in time", service=service)
        ) from exc
    except httpx.TransportError as exc:
        raise UpstreamError(
            problem(503, "Service unavailable", f"the {service} service is unavailable", service=service)
        ) from exc
    if response.status_code >= 500 and response.status_code not in (503, 504):
        raise UpstreamError(
            problem(
                502,
                "Bad gateway",
                f"the {service} service failed (status {response.status_code})",
                service=service,
            )
        )
    kept = {k: v for k, v in response.headers.items() if k.lower() in FORWARDED_RESPONSE_HEADERS}
    return Upstream(response.status_code, response.content, kept)


def forwarded_headers(request: Request, correlation: str) -> dict[str, str]:
    headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED_REQUEST_HEADERS}
    if "x-correlation-id" in request.headers:
        headers["x-correlation-id"] = request.headers["x-correlation-id"]
    headers["x-request-id"] = correlation
    return headers


def to_response(upstream: Upstream, correlation: str) -> Response:
    headers = dict(upstream.headers) | {"x-request-id": correlation}
    media_type = headers.pop("content-type", None)
    return Response(upstream.body, status_code=upstream.status, headers=headers, media_type=media_type)
