"""What a request must be before any route sees it: a readable path, a bounded size.

An ASGI middleware shared by the gateway and every service, so that nothing a client sends can
make them answer 5xx: control characters in the path (`%00`) are a 400 problem, an over-long path
and query a 414, a body over the limit (declared or streamed) a 413 — each application/problem+json.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BODY = 1024 * 1024
DEFAULT_MAX_TARGET = 8 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Limits:
    """`ICAM_MAX_BODY_BYTES` (default 1 MiB), `ICAM_MAX_TARGET_BYTES` (path + query, 8 KiB);
    `large_bodies`: (path pattern, limit) pairs for routes that take documents."""

    max_body: int = DEFAULT_MAX_BODY
    max_target: int = DEFAULT_MAX_TARGET
    large_bodies: Sequence[tuple[str, int]] = field(default_factory=tuple)

    @classmethod
    def from_env(cls, large_bodies: Sequence[tuple[str, int]] = ()) -> Limits:
        return cls(
            max_body=int(os.environ.get("ICAM_MAX_BODY_BYTES", DEFAULT_MAX_BODY)),
            max_target=int(os.environ.get("ICAM_MAX_TARGET_BYTES", DEFAULT_MAX_TARGET)),
            large_bodies=tuple(large_bodies),
        )

    def body_limit(self, path: str) -> int:
        return next(
            (limit for pattern, limit in self.large_bodies if re.fullmatch(pattern, path)), self.max_body
        )


class BodyTooLarge(HTTPException):
    """Raised from `receive` once a streamed body passes the limit: FastAPI lets an HTTP exception
    through its body parsing, and the problem handlers answer it as a 413 problem."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"the body is over the limit of {limit} bytes")


class RequestGuard:
    """Refuses unreadable paths and oversized requests before the app runs."""

    def __init__(self, app: ASGIApp, limits: Limits | None = None) -> None:
        self.app = app
        self.limits = limits or Limits.from_env()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await _answer(send, *refusal)
            return
        limit = self.limits.body_limit(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _answer(send, *_too_large(limit))
            return
        await self._bounded(scope, receive, send, limit)

    def _refusal(self, scope: Scope) -> tuple[int, str, str, str, dict[str, object]] | None:
        raw = scope.get("raw_path") or scope["path"].encode()
        target = len(raw) + len(scope.get("query_string", b""))
        if target > self.limits.max_target:
            detail = f"the path and query are {target} bytes; the limit is {self.limits.max_target}"
            return 414, "uri-too-long", "URI too long", detail, {"limit_bytes": self.limits.max_target}
        decoded = unquote(raw.decode("latin-1"), errors="replace")
        if _CONTROL.search(decoded) or _CONTROL.search(scope["path"]):
            return 400, "invalid-path", "Invalid path", "the path holds control characters", {}
        return None

    async def _bounded(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Count the body as it streams in; past the limit the request ends with a 413."""
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _answer(send, *_too_large(limit))


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _too_large(limit: int) -> tuple[int, str, str, str, dict[str, object]]:
    detail = f"the body is over the limit of {limit} bytes"
    return 413, "payload-too-large", "Payload too large", detail, {"limit_bytes": limit}


async def _answer(
    send: Send, status: int, kind: str, title: str, detail: str, extra: dict[str, object]
) -> None:
    body = json.dumps(
        {"type": f"urn:icam:problem:{kind}", "title": title, "status": status, "detail": detail, **extra}
    ).encode()
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
