"""The web's only way to data: the gateway's HTTP API, called with the signed-in person's token.

Every read says why (`X-Purpose`, written to the audit log); a 401 means the token ran out (the
person signs in again); problems come back as `GatewayProblem` with the problem+json body.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from icam_web.sessions import Session

T = TypeVar("T")
# what a route that the gateway does not offer (yet) answers: the page says "not available yet"
MISSING = (404, 405, 501)


@dataclass(frozen=True)
class Upload:
    """A file on its way to the gateway: its bytes (held in memory, never written to disk) and the
    type the browser declared (the service reads the real type from the bytes)."""

    data: bytes
    content_type: str = "application/octet-stream"


class GatewayProblem(Exception):
    """The gateway answered with a problem (or could not be reached: 503)."""

    def __init__(self, status: int, problem: Mapping[str, Any]) -> None:
        super().__init__(f"gateway answered {status}")
        self.status = status
        self.problem = dict(problem)


class TokenExpired(Exception):
    """The gateway no longer accepts the session's token: sign in again."""


class Gateway:
    def __init__(self, client: httpx.AsyncClient, base_url: str) -> None:
        self.client = client
        self.base_url = base_url
        # routes the gateway answered 404/405 for: not asked again for a while (API-NEEDS.md)
        self.missing: dict[str, float] = {}

    def known_missing(self, path: str) -> bool:
        return self.missing.get(path, 0.0) > time.monotonic()

    async def call(
        self,
        session: Session,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        purpose: str | None = None,
        content: Upload | None = None,
    ) -> httpx.Response:
        headers = {"authorization": f"Bearer {session.access_token}", "accept": "application/json"}
        if purpose:
            headers["x-purpose"] = purpose
        if content is not None:
            headers["content-type"] = content.content_type
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            answer = await self.client.request(
                method,
                self.base_url + path,
                params=clean,
                json=body if content is None else None,
                content=content.data if content is not None else None,
                headers=headers,
            )
        except httpx.TransportError as exc:
            raise GatewayProblem(503, {"title": "Gateway unavailable", "detail": type(exc).__name__}) from exc
        if answer.status_code == 401:
            raise TokenExpired()
        if answer.status_code >= 400:
            raise GatewayProblem(answer.status_code, _problem_of(answer))
        return answer

    async def get(self, session: Session, path: str, purpose: str | None = None, **params: Any) -> Any:
        return (await self.call(session, "GET", path, params=params, purpose=purpose)).json()

    async def get_if_offered(self, session: Session, path: str, purpose: str, **params: Any) -> Any:
        """A list route the gateway may not offer yet: its answer, or None (remembered a while)."""
        if self.known_missing(path):
            return None
        try:
            return await self.get(session, path, purpose, **params)
        except GatewayProblem as problem:
            if problem.status not in (405, 501) and not (problem.status == 404 and _route_missing(problem)):
                raise
            self.missing[path] = time.monotonic() + MISSING_FOR
            return None

    async def post(self, session: Session, path: str, body: Any) -> Any:
        answer = await self.call(session, "POST", path, body=body)
        return answer.json() if answer.content else {}

    async def post_file(self, session: Session, path: str, upload: Upload, **params: Any) -> Any:
        """A command whose body is a file (a document for the case file), sent as its raw bytes."""
        answer = await self.call(session, "POST", path, params=params, content=upload)
        return answer.json() if answer.content else {}


def _route_missing(problem: GatewayProblem) -> bool:
    """A 404 for the route itself (the gateway or service has no such path), not for a resource."""
    detail = str(problem.problem.get("detail", "")).strip().lower()
    return "no route" in detail or detail in ("not found", "")


def _problem_of(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {"title": "Error", "status": answer.status_code}
    return body if isinstance(body, dict) else {"title": "Error", "detail": str(body)}


MISSING_FOR = 60.0  # seconds before asking again whether a missing route exists now


async def optional(read: Awaitable[T]) -> tuple[T | None, str | None]:
    """A read that may not be offered yet (or whose service is down): (value, None) or
    (None, "missing" | "unavailable" | "refused"), so the page shows the section as not available."""
    try:
        return await read, None
    except GatewayProblem as problem:
        if problem.status in MISSING:
            return None, "missing"
        if problem.status in (502, 503, 504):
            return None, "unavailable"
        return None, "refused"


async def gather(*reads: Awaitable[Any]) -> list[Any]:
    return list(await asyncio.gather(*reads))
