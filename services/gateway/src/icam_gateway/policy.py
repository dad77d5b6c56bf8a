"""The gateway's use of the route table (`icam_auth.policy.ROUTES`, the single source): which
operation a concrete path is, and whether this caller may use it. Services check the same rows."""

from __future__ import annotations

from icam_auth import Principal
from icam_auth.policy import ROUTES, NoSuchRoute, NotAllowed, Route, route_for
from icam_auth.policy import authorise as authorise_route

__all__ = ["ROUTES", "NoSuchRoute", "NotAllowed", "Route", "authorise", "route_for"]


def authorise(principal: Principal, method: str, path: str) -> Route:
    """The service operation `method path` is, if `principal` may call it; NotAllowed (403) or
    NoSuchRoute (404) otherwise. The gateway's own routes (views, audit) are not forwarded."""
    route = route_for(method, path)
    if route.service == "gateway":
        raise NoSuchRoute(f"{method} {path}")
    return authorise_route(principal, route)
