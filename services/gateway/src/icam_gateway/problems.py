"""RFC 9457 problem responses for what goes wrong at the gateway itself."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"urn:icam:problem:{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    headers = {"Retry-After": "5"} if status in (503, 504) else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)
