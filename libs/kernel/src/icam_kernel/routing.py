"""Routes whose roles come from the route table (`icam_auth.policy.ROUTES`), the single source.

    router = PolicyRouter("case")

    @router.post("/cases/{case_id}/suspend", status_code=202)   # must be a row of the table
    async def suspend(...): ...

Declaring a route the table does not list fails at import time; every request is checked against
the row's roles (403 problem) before the route runs, so the gateway and the service cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.params import Depends as DependsParam

from icam_auth import Forbidden, Principal
from icam_auth.fastapi import CurrentPrincipal
from icam_auth.policy import Route, declared


def allow(route: Route) -> Callable[..., Any]:
    """A dependency refusing callers whose role the route's row does not name."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not route.allows(principal):
            allowed = ", ".join(sorted(r.value for r in route.roles))
            raise Forbidden(f"role {principal.role.value} may not {route.purpose} (allowed: {allowed})")
        return principal

    return check


class PolicyRouter(APIRouter):
    """An APIRouter for one service whose every route is a row of the route table."""

    def __init__(self, service: str, **options: Any) -> None:
        super().__init__(**options)
        self.service = service

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
        super().add_api_route(
            path,
            endpoint,
            methods=verbs,
            dependencies=[*(dependencies or []), Depends(allow(row))],
            **options,
        )
