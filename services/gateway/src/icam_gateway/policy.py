"""Who may call which route, which service answers it, and whether it returns personal data.

Pure data and functions: the gateway enforces this table first, and each service checks the same
token again (defence in depth). The finer rules — a coach only sees their region, a partner only
its own referrals — need the resource itself and are enforced by the owning service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from icam_auth import Principal, Role

COACHING = frozenset({Role.COACH, Role.TEAM_LEAD, Role.ADMIN})
STATISTICS = frozenset({Role.OPS_VIEWER, Role.TEAM_LEAD, Role.ADMIN})
PARTNERS = frozenset({Role.RETURN_PARTNER})


@dataclass(frozen=True)
class Route:
    """One family of upstream routes: method, path pattern (regex), service, allowed roles."""

    methods: frozenset[str]
    pattern: str
    service: str
    roles: frozenset[Role]
    personal_data: bool
    purpose: str

    def matches(self, method: str, path: str) -> bool:
        return method in self.methods and re.fullmatch(self.pattern, path) is not None


GET = frozenset({"GET"})
POST = frozenset({"POST"})
ID = r"[^/]+"

ROUTES: tuple[Route, ...] = (
    # invitation service
    Route(POST, r"/invitations", "invitation", COACHING, False, "send an invitation"),
    Route(
        POST,
        rf"/invitations/{ID}/(reschedule|cancel|response)",
        "invitation",
        COACHING,
        False,
        "manage an invitation",
    ),
    Route(GET, rf"/invitations(/{ID})?", "invitation", COACHING, True, "read invitations"),
    Route(POST, r"/appointment-requests", "invitation", COACHING, False, "record an appointment request"),
    Route(
        POST,
        rf"/appointment-requests/{ID}/(invite|close)",
        "invitation",
        COACHING,
        False,
        "handle an appointment request",
    ),
    Route(GET, rf"/appointment-requests(/{ID})?", "invitation", COACHING, True, "read appointment requests"),
    Route(POST, rf"/desks/{ID}/visits", "invitation", COACHING, False, "register a walk-in visit"),
    Route(GET, rf"/desks/{ID}/visits", "invitation", COACHING, True, "read a desk's visit log"),
    Route(GET, rf"/agenda/(coaches|offices)/{ID}", "invitation", COACHING, True, "read an agenda"),
    Route(GET, r"/stats/funnel", "invitation", STATISTICS, False, "read the invitation funnel"),
    # case service
    Route(POST, rf"/cases/{ID}/[a-z\-/0-9A-F]+", "case", COACHING, False, "work on a case"),
    Route(GET, rf"/cases/{ID}(/timeline)?", "case", COACHING, True, "read a case"),
    Route(GET, r"/caseload", "case", COACHING, True, "read a caseload"),
    Route(GET, r"/stats/outcomes", "case", STATISTICS, False, "read outcome statistics"),
    # referral service
    Route(
        GET, r"/partners", "referral", COACHING | PARTNERS | STATISTICS, False, "read the partner catalogue"
    ),
    Route(GET, rf"/partners/{ID}/inbox", "referral", PARTNERS | {Role.ADMIN}, True, "read a partner inbox"),
    Route(GET, rf"/referrals/{ID}", "referral", COACHING | PARTNERS, True, "read a referral"),
    Route(GET, r"/referrals", "referral", COACHING, True, "read referrals"),
    Route(
        POST,
        rf"/referrals/{ID}/(acknowledge|reject|departure|withdrawal)",
        "referral",
        PARTNERS,
        False,
        "act on a referral as its partner",
    ),
    Route(GET, r"/stats/pipeline", "referral", STATISTICS, False, "read the referral pipeline"),
    # notification service
    Route(GET, rf"/notifications(/{ID}(/pdf)?)?", "notification", COACHING, True, "read notifications"),
    Route(GET, r"/stats/delivery", "notification", STATISTICS, False, "read delivery statistics"),
)


class NoSuchRoute(LookupError):
    """The gateway exposes no such route (404)."""


class NotAllowed(PermissionError):
    """The caller's role may not use this route (403)."""


def route_for(method: str, path: str) -> Route:
    for route in ROUTES:
        if route.matches(method, path):
            return route
    raise NoSuchRoute(f"{method} {path}")


def authorise(principal: Principal, method: str, path: str) -> Route:
    """The route if `principal` may call it; NotAllowed (403) or NoSuchRoute (404) otherwise."""
    route = route_for(method, path)
    if principal.role not in route.roles:
        allowed = ", ".join(sorted(r.value for r in route.roles))
        raise NotAllowed(
            f"role {principal.role.value} is not allowed to {route.purpose} (allowed: {allowed})"
        )
    return route
