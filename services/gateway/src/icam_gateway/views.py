"""Composed views: one answer built from several services' read models.

A section whose service is down is reported in `unavailable` rather than failing the whole view.
Every view that returns personal data writes its audit row before the answer leaves.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from icam_auth import Principal
from icam_gateway import audit, proxy
from icam_gateway.runtime import Runtime

Section = tuple[str, str, list[tuple[str, str]]]


async def _section(
    rt: Runtime,
    request: Request,
    rid: str,
    service: str,
    path: str,
    params: list[tuple[str, str]],
    audited: bool = True,
) -> tuple[str, Any]:
    """One service's part of a view; `audited`: the view audits it (personal data), and says so."""
    proof = rt.settings.audit_proof.sign(rid, "GET", path) if audited else None
    try:
        upstream = await proxy.call(
            rt.client,
            rt.settings.service_urls[service],
            service,
            "GET",
            path,
            params=params,
            headers=proxy.forwarded_headers(request, rid, proof),
        )
    except proxy.UpstreamError as exc:
        return "unavailable", {"service": service, "status": exc.response.status_code}
    if upstream.status >= 400:
        return "error", {"service": service, "status": upstream.status, "problem": upstream.json()}
    return "ok", upstream.json()


async def _sections(
    rt: Runtime, request: Request, rid: str, parts: dict[str, Section], audited: bool = True
) -> dict[str, Any]:
    results = await asyncio.gather(*(_section(rt, request, rid, *part, audited) for part in parts.values()))
    view: dict[str, Any] = {"unavailable": []}
    for name, (state, body) in zip(parts, results, strict=True):
        view[name] = body if state == "ok" else None
        if state != "ok":
            view["unavailable"].append({"section": name, **body})
    return view


async def _audit(
    rt: Runtime, request: Request, principal: Principal, path: str, purpose: str, rid: str
) -> None:
    reason = proxy.header_text(request, "x-purpose") or purpose
    correlation = request.headers.get("x-correlation-id") or rid
    entry = audit.AuditEntry(principal, "GET", path, request.url.query, 200, reason, correlation)
    await audit.record(rt.pool, entry)


async def single(
    rt: Runtime,
    request: Request,
    principal: Principal,
    service: str,
    path: str,
    params: list[tuple[str, str]],
    purpose: str,
) -> Response:
    rid = proxy.request_id(request)
    upstream = await proxy.call(
        rt.client,
        rt.settings.service_urls[service],
        service,
        "GET",
        path,
        params=params,
        headers=proxy.forwarded_headers(request, rid, rt.settings.audit_proof.sign(rid, "GET", path)),
    )
    if upstream.status < 400:
        await _audit(rt, request, principal, path, purpose, rid)
    return proxy.to_response(upstream, rid)


async def case_across_services(
    rt: Runtime, request: Request, principal: Principal, case_id: str, min_position: int | None = None
) -> Response:
    """The case file, then what the other services hold about it: its timeline, the household's
    invitations and notifications (letters sent before the case opened included), the case's
    referrals. `min_position` (a case command's answer) makes the case sections wait for it."""
    rid = proxy.request_id(request)
    fresh = [("min_position", str(min_position))] if min_position is not None else []
    state, case = await _section(rt, request, rid, "case", f"/cases/{case_id}", fresh)
    if state != "ok":
        status = case.get("status", 502)
        body = case.get("problem") or {"title": "Case unavailable", "status": status}
        return JSONResponse(body, status_code=status, media_type="application/problem+json")
    household = str(case.get("household_id", ""))
    parts: dict[str, Section] = {
        "timeline": ("case", f"/cases/{case_id}/timeline", [("limit", "200"), *fresh]),
        "invitations": ("invitation", "/invitations", [("household_id", household)]),
        "notifications": ("notification", "/notifications", [("household_id", household), ("limit", "200")]),
        "referrals": ("referral", "/referrals", [("case_id", case_id)]),
    }
    view = {"case": case, **await _sections(rt, request, rid, parts)}
    await _audit(rt, request, principal, f"/views/cases/{case_id}", "case file review", rid)
    return JSONResponse(view, headers={"x-request-id": rid})


async def kpis(rt: Runtime, request: Request, principal: Principal) -> JSONResponse:
    rid = proxy.request_id(request)
    params = list(request.query_params.multi_items())
    parts: dict[str, Section] = {
        "invitation_funnel": ("invitation", "/stats/funnel", params),
        "outcomes": ("case", "/stats/outcomes", params),
        "referral_pipeline": ("referral", "/stats/pipeline", params),
        "notification_delivery": ("notification", "/stats/delivery", params),
    }
    view = await _sections(rt, request, rid, parts, audited=False)
    return JSONResponse(view, headers={"x-request-id": rid})
