"""A file passed on to the browser (a document of the file, a letter's PDF): shown inline only when
it is a type the browser displays safely, never cached, never sniffed into something else."""

from __future__ import annotations

from collections.abc import Collection

import httpx
from fastapi.responses import Response


def passed_on(answer: httpx.Response, viewable: Collection[str]) -> Response:
    """The upstream answer's bytes with its declared type when viewable, else as a download."""
    declared = answer.headers.get("content-type", "").split(";")[0].strip()
    inline = declared in viewable
    headers = {
        "Content-Disposition": "inline" if inline else "attachment",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(
        answer.content, media_type=declared if inline else "application/octet-stream", headers=headers
    )
