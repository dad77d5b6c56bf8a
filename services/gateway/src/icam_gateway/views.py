"""Composed views: one answer built from several services' read models.

A section whose service is down is reported in `unavailable` rather than failing the whole view.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from icam_auth import Principal
from icam_gateway import audit, proxy
from icam_gateway.runtime import Runtime


async def _section(
    rt: Runtime, request: Request, correlation: str, service: str, path: str, params: list[tuple[str, str]]
) -> tuple[str, Any]:
    try:
        upstream = await proxy.call(
            rt.client,
            rt.settings.service_urls[service],
            service,
            "GET",
            path,
            params=params,
            headers=proxy.forwarded_headers(request, correlation),
        )
    except proxy.UpstreamError as exc:
        return "unavailable", {"service": service, "status": exc.response.status_code}
    if upstream.status >= 400:
        return "error", {"service": service, "status": upstream.status, "problem": upstream.json()}
    return "ok", upstream.json()


async def single(
    rt: Runtime,
    request: Request,
    principal: Principal,
    service: str,
    path: str,
    params: list[tuple[str, str]],
    purpose: str,
) -> Response:
    correlation = proxy.correlation_id(request)
    upstream = await proxy.call(
        rt.client,
        rt.settings.service_urls[service],
        service,
        "GET",
        path,
        params=params,
        headers=proxy.forwarded_headers(request, correlation),
    )
    if upstream.status < 400:
        await audit.record(
            rt.pool,
            audit.AuditEntry(
                principal, "GET", path, request.url.query, upstream.status, purpose, correlation
            ),
        )
    return proxy.to_response(upstream, correlation)


async def case_across_services(rt: Runtime, request: Request, principal: Principal, case_id: str) -> Response:
    correlation = proxy.correlation_id(request)
    parts = {
        "case": ("case", f"/cases/{case_id}", []),
        "timeline": ("case", f"/cases/{case_id}/timeline", []),
        "notifications": ("notification", "/notifications", [("case_id", case_id)]),
        "referrals": ("referral", "/referrals", [("case_id", case_id)]),
    }
    results = await asyncio.gather(
        *(
            _section(rt, request, correlation, service, path, params)
            for service, path, params in parts.values()
        )
    )
    state, case = results[0]
    if state != "ok":
        status = case.get("status", 502)
        body = case.get("problem") or {"title": "Case unavailable", "status": status}
        return JSONResponse(body, status_code=status, media_type="application/problem+json")
    view: dict[str, Any] = {"unavailable": []}
    for name, (section_state, body) in zip(parts, results, strict=True):
        if section_state == "ok":
            view[name] = body
        else:
            view[name] = None
            view["unavailable"].append(body)
    await audit.record(
        rt.pool,
        audit.AuditEntry(
            principal,
            "GET",
            f"/views/cases/{case_id}",
            "",
            200,
            request.headers.get("x-purpose") or "case file review",
            correlation,
        ),
    )
    return JSONResponse(view, headers={"x-request-id": correlation})


async def kpis(rt: Runtime, request: Request, principal: Principal) -> JSONResponse:
    correlation = proxy.correlation_id(request)
    params = list(request.query_params.multi_items())
    parts = {
        "invitation_funnel": ("invitation", "/stats/funnel"),
        "outcomes": ("case", "/stats/outcomes"),
        "referral_pipeline": ("referral", "/stats/pipeline"),
        "notification_delivery": ("notification", "/stats/delivery"),
    }
    results = await asyncio.gather(
        *(_section(rt, request, correlation, service, path, params) for service, path in parts.values())
    )
    view: dict[str, Any] = {"unavailable": []}
    for name, (state, body) in zip(parts, results, strict=True):
        view[name] = body if state == "ok" else None
        if state != "ok":
            view["unavailable"].append(body)
    return JSONResponse(view, headers={"x-request-id": correlation})
