"""HTTP routes of the gateway: `/api/...` forwarded by the route table, composed views, audit.

The gateway's own routes are rows of the same table (service `gateway`) and get their roles from
it, like every service's routes; forwarded calls are authorised row by row in `policy.authorise`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from icam_auth import Principal, Role
from icam_auth.fastapi import CurrentPrincipal
from icam_gateway import audit, openapi_document, policy, proxy, views
from icam_gateway.runtime import Runtime, runtime
from icam_kernel.http import problem
from icam_kernel.http_queries import MAX_OFFSET, MAX_PAGE
from icam_kernel.inputs import Moment
from icam_kernel.routing import PolicyRouter

router = PolicyRouter("gateway", prefix="/api", audit_reads=False)  # the gateway audits in its log
forwarding = APIRouter()
RuntimeDep = Annotated[Runtime, Depends(runtime)]
Text = Annotated[str | None, Query(max_length=200)]


def _route_table() -> str:
    lines = ["| method | path | service | roles | personal data |", "|---|---|---|---|---|"]
    for r in policy.ROUTES:
        if r.service == "gateway":
            continue
        lines.append(
            f"| {r.method} | `/api{r.path}` | {r.service} | "
            f"{', '.join(sorted(x.value for x in r.roles))} | {'audited' if r.personal_data else 'no'} |"
        )
    return "\n".join(lines)


async def audited(
    rt: Runtime, request: Request, principal: Principal, path: str, status: int, purpose: str, rid: str
) -> None:
    reason = proxy.header_text(request, "x-purpose") or purpose
    correlation = request.headers.get("x-correlation-id") or rid
    await audit.record(
        rt.pool,
        audit.AuditEntry(principal, request.method, path, request.url.query, status, reason, correlation),
    )


class CaseloadFilters(BaseModel):
    """The case service's caseload filters, checked here so a bad one is named before forwarding."""

    model_config = ConfigDict(extra="forbid")

    coach: str | None = Field(default=None, max_length=200)
    region: str | None = Field(default=None, max_length=50)
    status: str | None = Field(default=None, pattern="^(open|contact_lost|suspended|closed)$")
    due_before: Moment | None = None
    flag: str | None = Field(default=None, max_length=50, examples=["vulnerable"])
    q: str | None = Field(default=None, min_length=2, max_length=100, description="A name or reference.")
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    min_position: int | None = Field(default=None, ge=0)


@router.get(
    "/views/caseload",
    tags=["views"],
    summary="A coach's caseload (composed view)",
    openapi_extra=openapi_document.answer_of("case", "/caseload"),
)
async def caseload_view(
    request: Request, principal: CurrentPrincipal, rt: RuntimeDep, _: Annotated[CaseloadFilters, Query()]
) -> Response:
    params = list(request.query_params.multi_items())
    if principal.role == Role.COACH and "coach" not in request.query_params:
        params.append(("coach", principal.subject))
    return await views.single(rt, request, principal, "case", "/caseload", params, "coach caseload review")


@router.get(
    "/views/cases/{case_id}",
    tags=["views"],
    summary="A case across services: file, timeline, invitations, notifications, referrals",
)
async def case_view(
    case_id: str,
    request: Request,
    principal: CurrentPrincipal,
    rt: RuntimeDep,
    min_position: Annotated[
        int | None, Query(ge=0, description="Wait until the case service has seen this position.")
    ] = None,
) -> Response:
    return await views.case_across_services(rt, request, principal, case_id, min_position)


@router.get(
    "/views/partner-inbox",
    tags=["views"],
    summary="The calling partner's open referrals",
    openapi_extra=openapi_document.answer_of("referral", "/partners/{code}/inbox"),
)
async def partner_inbox_view(request: Request, rt: RuntimeDep, principal: CurrentPrincipal) -> Response:
    if not principal.organisation:
        return problem(403, "Forbidden", "the token names no partner organisation", kind="forbidden")
    path = f"/partners/{principal.organisation}/inbox"
    return await views.single(rt, request, principal, "referral", path, [], "partner inbox")


@router.get("/views/kpis", tags=["views"], summary="Operations indicators (counts only, no personal data)")
async def kpis_view(request: Request, rt: RuntimeDep, principal: CurrentPrincipal) -> JSONResponse:
    return await views.kpis(rt, request, principal)


Door = Annotated[
    Literal["all", "gateway", "direct"],
    Query(description="`gateway`: reads through the gateway; `direct`: reads a service audited itself."),
]


def _criteria(
    subject: Text = None,
    path_contains: Text = None,
    since: Moment | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> audit.AuditSearch:
    return audit.AuditSearch(subject, path_contains, since, limit, offset)


Criteria = Annotated[audit.AuditSearch, Depends(_criteria)]


@router.get(
    "/audit", tags=["audit"], summary="The audit log of personal-data reads, every door (auditor only)"
)
async def audit_log(
    request: Request, rt: RuntimeDep, _: CurrentPrincipal, criteria: Criteria, door: Door = "all"
) -> list[dict[str, Any]]:
    return await audit.merged(rt, request, door, criteria)


@router.get("/audit/direct", tags=["audit"], summary="Reads of personal data that reached a service directly")
async def direct_audit_log(
    request: Request, rt: RuntimeDep, _: CurrentPrincipal, criteria: Criteria
) -> list[dict[str, Any]]:
    return await audit.merged(rt, request, "direct", criteria)


@forwarding.api_route(
    "/api/{path:path}",
    methods=["GET", "POST"],
    summary="Forwarded to the owning service",
    description=_route_table(),
    include_in_schema=False,  # each forwarded operation is in the composed document instead
)
async def forward(path: str, request: Request, principal: CurrentPrincipal, rt: RuntimeDep) -> Response:
    upstream_path = "/" + path
    route = policy.authorise(principal, request.method, upstream_path)
    proxy.check_correlation(request)
    rid = proxy.request_id(request)
    proof = rt.settings.audit_proof.sign(rid, request.method, upstream_path) if route.personal_data else None
    result = await proxy.call(
        rt.client,
        rt.settings.service_urls[route.service],
        route.service,
        request.method,
        upstream_path,
        params=list(request.query_params.multi_items()),
        body=await request.body(),
        headers=proxy.forwarded_headers(request, rid, proof),
    )
    if route.personal_data and result.status < 400:
        await audited(rt, request, principal, upstream_path, result.status, route.purpose, rid)
    return proxy.to_response(result, rid)
