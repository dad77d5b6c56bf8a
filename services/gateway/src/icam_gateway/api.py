"""HTTP routes of the gateway: `/api/...` forwarded by the policy table, composed views, audit."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from icam_auth import Principal, Role
from icam_auth.fastapi import CurrentPrincipal, roles
from icam_gateway import audit, policy, proxy, views
from icam_gateway.problems import problem
from icam_gateway.runtime import Runtime, runtime

router = APIRouter()
RuntimeDep = Annotated[Runtime, Depends(runtime)]


def _route_table() -> str:
    lines = ["| method | path (regex) | service | roles | personal data |", "|---|---|---|---|---|"]
    for r in policy.ROUTES:
        lines.append(
            f"| {'/'.join(sorted(r.methods))} | `/api{r.pattern}` | {r.service} | "
            f"{', '.join(sorted(x.value for x in r.roles))} | {'audited' if r.personal_data else 'no'} |"
        )
    return "\n".join(lines)


async def audited(
    rt: Runtime,
    request: Request,
    principal: Principal,
    path: str,
    status: int,
    purpose: str,
    correlation: str,
) -> None:
    reason = request.headers.get("x-purpose") or purpose
    await audit.record(
        rt.pool,
        audit.AuditEntry(principal, request.method, path, request.url.query, status, reason, correlation),
    )


@router.get("/api/views/caseload", tags=["views"], summary="A coach's caseload (composed view)")
async def caseload_view(request: Request, principal: CurrentPrincipal, rt: RuntimeDep) -> Response:
    params = list(request.query_params.multi_items())
    if principal.role == Role.COACH and "coach" not in request.query_params:
        params.append(("coach", principal.subject))
    return await views.single(rt, request, principal, "case", "/caseload", params, "coach caseload review")


@router.get(
    "/api/views/cases/{case_id}",
    tags=["views"],
    summary="A case across services: file, timeline, notifications, referrals",
)
async def case_view(case_id: str, request: Request, principal: CurrentPrincipal, rt: RuntimeDep) -> Response:
    policy.authorise(principal, "GET", f"/cases/{case_id}")
    return await views.case_across_services(rt, request, principal, case_id)


@router.get("/api/views/partner-inbox", tags=["views"], summary="The calling partner's open referrals")
async def partner_inbox_view(
    request: Request, rt: RuntimeDep, principal: Annotated[Principal, Depends(roles(Role.RETURN_PARTNER))]
) -> Response:
    if not principal.organisation:
        return problem(403, "Forbidden", "the token names no partner organisation")
    path = f"/partners/{principal.organisation}/inbox"
    return await views.single(rt, request, principal, "referral", path, [], "partner inbox")


@router.get(
    "/api/views/kpis", tags=["views"], summary="Operations indicators (counts only, no personal data)"
)
async def kpis_view(
    request: Request,
    rt: RuntimeDep,
    principal: Annotated[Principal, Depends(roles(Role.OPS_VIEWER, Role.TEAM_LEAD, Role.ADMIN))],
) -> JSONResponse:
    return await views.kpis(rt, request, principal)


@router.get("/api/audit", tags=["audit"], summary="The audit log of personal-data reads (auditor only)")
async def audit_log(
    rt: RuntimeDep,
    principal: Annotated[Principal, Depends(roles(Role.AUDITOR))],
    subject: str | None = None,
    path_contains: str | None = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    return await audit.search(
        rt.pool, subject=subject, path_contains=path_contains, since=since, limit=limit, offset=offset
    )


@router.api_route(
    "/api/{path:path}",
    methods=["GET", "POST"],
    tags=["services"],
    summary="Forwarded to the owning service",
    description=_route_table(),
)
async def forward(path: str, request: Request, principal: CurrentPrincipal, rt: RuntimeDep) -> Response:
    upstream_path = "/" + path
    route = policy.authorise(principal, request.method, upstream_path)
    correlation = proxy.correlation_id(request)
    result = await proxy.call(
        rt.client,
        rt.settings.service_urls[route.service],
        route.service,
        request.method,
        upstream_path,
        params=list(request.query_params.multi_items()),
        body=await request.body(),
        headers=proxy.forwarded_headers(request, correlation),
    )
    if route.personal_data and result.status < 400:
        await audited(rt, request, principal, upstream_path, result.status, route.purpose, correlation)
    return proxy.to_response(result, correlation)
