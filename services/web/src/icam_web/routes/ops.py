"""The operations dashboard: charts with their numbers in tables, a month range, CSV and XLSX
exports of the same aggregates. Only the services' statistics routes are read: no personal data."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from icam_web import exports, figures, pages
from icam_web.actions import gateway
from icam_web.deps import Operations
from icam_web.gateway import optional
from icam_web.sessions import Session

router = APIRouter()
MONTH = re.compile(r"^\d{4}-\d{2}$")
# the largest page each statistics route serves (invitation: 500, case: 200)
PAGE = {"/api/stats/funnel": 500, "/api/stats/outcomes": 200}
MAX_PAGES = 20


async def _all_pages(request: Request, session: Session, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every row of a paged statistics route (bounded: MAX_PAGES pages)."""
    rows: list[dict[str, Any]] = []
    size = PAGE[path]
    for n in range(MAX_PAGES):
        page = await gateway(request).get(
            session, path, "programme reporting", limit=size, offset=n * size, **params
        )
        rows += page["items"]
        if len(rows) >= page["total"] or not page["items"]:
            break
    return rows


async def tables_for(
    request: Request, session: Session, first: str | None, last: str | None
) -> tuple[dict[str, figures.Table], list[str]]:
    bounds = figures.range_params(first, last)
    group = "region,office,entry_channel,language,week"
    gw = gateway(request)
    results = await asyncio.gather(
        optional(_all_pages(request, session, "/api/stats/funnel", group_by=group, **bounds["funnel"])),
        optional(_all_pages(request, session, "/api/stats/outcomes", **bounds["outcomes"])),
        optional(gw.get(session, "/api/stats/pipeline", "programme reporting", **bounds["pipeline"])),
        optional(gw.get(session, "/api/stats/delivery", "programme reporting")),
    )
    names = ("funnel", "outcomes", "referrals", "delivery")
    missing = [name for name, (_, why) in zip(names, results, strict=True) if why]
    (funnel, _), (outcomes, _), (pipeline, _), (delivery, _) = results
    tables = figures.dashboard(
        funnel or [], outcomes or [], (pipeline or {}).get("rows", []), (delivery or {}).get("rows", [])
    )
    return tables, missing


def _range(request: Request) -> tuple[str | None, str | None]:
    first = request.query_params.get("from", "")
    last = request.query_params.get("to", "")
    return (first if MONTH.match(first) else None), (last if MONTH.match(last) else None)


@router.get("/ops")
async def dashboard(request: Request, session: Operations) -> Response:
    first, last = _range(request)
    tables, missing = await tables_for(request, session, first, last)
    return pages.render(
        request, "ops.html", session, tables=tables, missing=missing, first=first or "", last=last or ""
    )


@router.get("/ops/export.{kind}")
async def export(request: Request, kind: str, session: Operations) -> Response:
    first, last = _range(request)
    tables, _ = await tables_for(request, session, first, last)
    name = f"icam-figures-{first or 'start'}-{last or 'now'}"
    if kind == "xlsx":
        return Response(
            exports.to_xlsx(tables),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return Response(
        exports.to_csv(tables),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
