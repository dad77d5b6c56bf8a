"""Routes whose roles come from the route table (`icam_auth.policy.ROUTES`), the single source.

    router = PolicyRouter("case")

    @router.post("/cases/{case_id}/suspend", status_code=202)   # must be a row of the table
    async def suspend(...): ...

Declaring a route the table does not list fails at import time; every request is checked against
the row's roles (403 problem) before the route runs, so the gateway and the service cannot drift.
A row that returns personal data is refused to any role that may not see personal data (the
`system` token included), whatever the row lists, and every answer it serves is audited by the
service itself unless the gateway proves it audited it (`icam_kernel.access_audit`, ADR 0015).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute

from icam_auth import Forbidden, Principal
from icam_auth.fastapi import CurrentPrincipal
from icam_auth.policy import Route, declared
from icam_kernel.access_audit import audit_read


def allow(route: Route) -> Callable[..., Any]:
    """A dependency refusing callers whose role the route's row does not name (and, on a row of
    personal data, callers whose role may not see any); the caller is kept for the audit."""

    async def check(request: Request, principal: CurrentPrincipal) -> Principal:
        if not route.allows(principal) or (route.personal_data and not principal.may_see_personal_data):
            allowed = ", ".join(sorted(r.value for r in route.roles))
            raise Forbidden(f"role {principal.role.value} may not {route.purpose} (allowed: {allowed})")
        request.state.principal = principal
        return principal

    return check


def audited_read(row: Route) -> type[APIRoute]:
    """The route class of a personal-data row: its answer is audited before it leaves."""

    class AuditedRead(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            serve = super().get_route_handler()

            async def handler(request: Request) -> Response:
                response = await serve(request)
                if response.status_code < 400:
                    await audit_read(request, row, response.status_code)
                return response

            return handler

    return AuditedRead


class PolicyRouter(APIRouter):
    """An APIRouter for one service whose every route is a row of the route table.

    `audit_reads=False` is for the gateway, which audits the reads it serves in its own log."""

    def __init__(self, service: str, *, audit_reads: bool = True, **options: Any) -> None:
        super().__init__(**options)
        self.service = service
        self.audit_reads = audit_reads

    def add_api_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str] | set[str] | None = None,
        dependencies: Sequence[DependsParam] | None = None,
        **options: Any,
    ) -> None:
        verbs = sorted(methods or ["GET"])
        if len(verbs) != 1:
            raise ValueError(f"{path}: one method per route, so that each has its own row and roles")
        row = declared(self.service, verbs[0], path)  # the table's paths are the router's, unprefixed
        options.setdefault("tags", [self.service])
        if row.personal_data and self.audit_reads:
            options["route_class_override"] = audited_read(row)
        super().add_api_route(
            path,
            endpoint,
            methods=verbs,
            dependencies=[*(dependencies or []), Depends(allow(row))],
            **options,
        )
