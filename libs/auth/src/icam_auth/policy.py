"""The route table: every operation of the platform, who may call it, and whether it returns
personal data. The single source of authorisation by role (ADR 0005):

* the gateway refuses a caller early with it, and audits the reads it marks as personal data;
* every service builds its routes on `icam_kernel.routing.PolicyRouter`, which refuses at import
  time a route the table does not list and checks the table's roles on every request, and audits
  itself the personal data it serves to a caller that did not come through the gateway (ADR 0015).

No row of personal data names a role that may not see personal data (`system`, `ops_viewer`,
`auditor`): a test holds the table to it, and the services refuse such a caller on those rows.

Finer rules that need the resource (a coach's region, the case assigned to them, a partner's own
referrals, need-to-know vulnerability details) stay with the owning service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from icam_auth.principal import Principal, Role

COACHING = frozenset({Role.COACH, Role.TEAM_LEAD})
READERS = frozenset({Role.COACH, Role.TEAM_LEAD, Role.ADMIN})
LEADS = frozenset({Role.TEAM_LEAD})
STATISTICS = frozenset({Role.OPS_VIEWER, Role.TEAM_LEAD, Role.ADMIN})
PARTNERS = frozenset({Role.RETURN_PARTNER})
AUDITORS = frozenset({Role.AUDITOR})
DPO = frozenset({Role.DATA_PROTECTION_OFFICER})
KEY_HOLDERS = frozenset({Role.SERVICE, Role.SUBSCRIBER})


@dataclass(frozen=True)
class Route:
    """One operation: method, path template (as the service declares it), owner, allowed roles."""

    method: str
    path: str
    service: str
    roles: frozenset[Role]
    personal_data: bool
    purpose: str
    tags: tuple[str, ...] = field(default=())
    internal: bool = False  # called between services only: the gateway does not forward it

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(re.sub(r"\{[^}/]+\}", "[^/]+", self.path))

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and self.pattern.fullmatch(path) is not None

    def allows(self, principal: Principal) -> bool:
        return principal.role in self.roles


def _r(
    method: str,
    path: str,
    service: str,
    roles: frozenset[Role],
    personal: bool,
    purpose: str,
    *,
    internal: bool = False,
) -> Route:
    return Route(method, path, service, roles, personal, purpose, internal=internal)


ROUTES: tuple[Route, ...] = (
    # invitation service
    _r("POST", "/invitations", "invitation", COACHING, False, "send an invitation"),
    _r("GET", "/invitations", "invitation", READERS, True, "read invitations"),
    _r("GET", "/invitations/{invitation_id}", "invitation", READERS, True, "read an invitation"),
    _r(
        "POST",
        "/invitations/{invitation_id}/reschedule",
        "invitation",
        COACHING,
        False,
        "reschedule an invitation",
    ),
    _r("POST", "/invitations/{invitation_id}/cancel", "invitation", COACHING, False, "cancel an invitation"),
    _r("POST", "/invitations/{invitation_id}/response", "invitation", COACHING, False, "record a response"),
    _r("POST", "/appointment-requests", "invitation", COACHING, False, "record an appointment request"),
    _r("GET", "/appointment-requests", "invitation", READERS, True, "read appointment requests"),
    _r(
        "GET",
        "/appointment-requests/{request_id}",
        "invitation",
        READERS,
        True,
        "read an appointment request",
    ),
    _r(
        "POST", "/appointment-requests/{request_id}/invite", "invitation", COACHING, False, "answer a request"
    ),
    _r("POST", "/appointment-requests/{request_id}/close", "invitation", COACHING, False, "close a request"),
    _r("POST", "/desks/{desk}/visits", "invitation", COACHING, False, "register a walk-in visit"),
    _r("GET", "/desks/{desk}/visits", "invitation", READERS, True, "read a desk's visit log"),
    _r("GET", "/agenda/coaches/{coach_id}", "invitation", READERS, True, "read a coach's agenda"),
    _r("GET", "/agenda/offices/{office}", "invitation", READERS, True, "read an office's agenda"),
    _r("GET", "/stats/funnel", "invitation", STATISTICS, False, "read the invitation funnel"),
    _r("POST", "/duplicates/check", "invitation", COACHING, True, "look for a household met before"),
    # case service
    _r("POST", "/cases/{case_id}/interviews", "case", COACHING, False, "record an interview"),
    _r(
        "POST",
        "/cases/{case_id}/dossier-elements/{element_id}/received",
        "case",
        COACHING,
        False,
        "receive an element",
    ),
    _r("POST", "/cases/{case_id}/vulnerabilities", "case", COACHING, False, "flag a vulnerability"),
    _r("POST", "/cases/{case_id}/outcome", "case", COACHING, False, "decide an outcome"),
    _r("POST", "/cases/{case_id}/outcome/{decision_id}/approve", "case", LEADS, False, "approve an outcome"),
    _r("POST", "/cases/{case_id}/outcome/{decision_id}/reject", "case", LEADS, False, "send an outcome back"),
    _r("POST", "/cases/{case_id}/members", "case", COACHING, False, "add a household member"),
    _r(
        "POST",
        "/cases/{case_id}/members/{person_id}/left",
        "case",
        COACHING,
        False,
        "record that a member left",
    ),
    _r("POST", "/cases/{case_id}/suspend", "case", COACHING, False, "suspend a trajectory"),
    _r("POST", "/cases/{case_id}/resume", "case", COACHING, False, "resume a trajectory"),
    _r("POST", "/cases/{case_id}/close", "case", COACHING, False, "close a trajectory"),
    _r("POST", "/cases/{case_id}/assign", "case", LEADS, False, "reassign a case"),
    _r("POST", "/cases/{case_id}/transfer", "case", LEADS, False, "transfer a case"),
    _r("POST", "/moves/reassignment", "case", LEADS, False, "hand many cases to another coach"),
    _r("POST", "/moves/transfer", "case", LEADS, False, "transfer many cases"),
    _r("GET", "/cases/{case_id}", "case", READERS, True, "read a case"),
    _r("POST", "/cases/{case_id}/documents", "case", COACHING, False, "add a document"),
    # a partner: only the documents a referral it holds open shares with it (the case service's rule)
    _r("GET", "/cases/{case_id}/documents", "case", READERS | PARTNERS, True, "list a file's documents"),
    _r(
        "POST",
        "/cases/{case_id}/documents/{document_id}/link",
        "case",
        READERS | PARTNERS,
        False,
        "open a document",
    ),
    _r(
        "GET",
        "/cases/{case_id}/documents/{document_id}/content",
        "case",
        READERS | PARTNERS,
        True,
        "view a document",
    ),
    _r(
        "POST",
        "/cases/{case_id}/documents/{document_id}/share",
        "case",
        COACHING,
        False,
        "share a document with the referral's partner",
    ),
    _r(
        "POST",
        "/cases/{case_id}/documents/{document_id}/remove",
        "case",
        COACHING,
        False,
        "remove a document",
    ),
    _r("GET", "/cases/{case_id}/timeline", "case", READERS, True, "read a case's timeline"),
    _r("GET", "/caseload", "case", READERS, True, "read a caseload"),
    _r("GET", "/tasks", "case", READERS, True, "read what needs doing"),
    _r("GET", "/tasks/overdue-by-coach", "case", LEADS | {Role.ADMIN}, False, "read a region's overdue work"),
    _r("GET", "/stats/outcomes", "case", STATISTICS, False, "read outcome statistics"),
    # referral service
    _r("GET", "/partners", "referral", COACHING | PARTNERS | STATISTICS, False, "read the partner catalogue"),
    _r("GET", "/partners/{code}/inbox", "referral", PARTNERS | {Role.ADMIN}, True, "read a partner inbox"),
    _r("GET", "/referrals", "referral", READERS, True, "read a case's referrals"),
    _r("GET", "/referrals/{referral_id}", "referral", READERS | PARTNERS, True, "read a referral"),
    _r("POST", "/referrals/{referral_id}/acknowledge", "referral", PARTNERS, False, "acknowledge a referral"),
    _r("POST", "/referrals/{referral_id}/reject", "referral", PARTNERS, False, "reject a referral"),
    _r("POST", "/referrals/{referral_id}/departure", "referral", PARTNERS, False, "record a departure"),
    _r(
        "POST",
        "/referrals/{referral_id}/withdrawal",
        "referral",
        PARTNERS | COACHING,
        False,
        "record a withdrawal",
    ),
    _r("GET", "/stats/pipeline", "referral", STATISTICS, False, "read the referral pipeline"),
    # notification service
    _r("GET", "/notifications", "notification", READERS, True, "read notifications"),
    _r("GET", "/notifications/{notification_id}", "notification", READERS, True, "read a notification"),
    _r("GET", "/notifications/{notification_id}/pdf", "notification", READERS, True, "read a letter"),
    _r("GET", "/stats/delivery", "notification", STATISTICS, False, "read delivery statistics"),
    # privacy service: key custody, erasure, retention holds, subject access
    _r(
        "POST",
        "/keys/issue",
        "privacy",
        frozenset({Role.SERVICE}),
        False,
        "obtain keys to seal with",
        internal=True,
    ),
    _r("POST", "/keys/release", "privacy", KEY_HOLDERS, True, "obtain data keys to open with"),
    _r("GET", "/keys/access", "privacy", AUDITORS | DPO, False, "read who obtained which keys"),
    _r("POST", "/erasures", "privacy", DPO, False, "order the erasure of a person"),
    _r("GET", "/erasures", "privacy", DPO | AUDITORS, False, "read erasure receipts"),
    _r("GET", "/erasures/{erasure_id}", "privacy", DPO | AUDITORS, False, "read an erasure receipt"),
    _r("POST", "/holds", "privacy", DPO, False, "place a retention hold"),
    _r("POST", "/holds/{hold_id}/release", "privacy", DPO, False, "release a retention hold"),
    _r("GET", "/holds", "privacy", DPO, False, "read retention holds"),
    _r("GET", "/retention", "privacy", DPO, False, "read what retention will erase when"),
    _r("GET", "/subjects/{person_id}", "privacy", DPO, True, "export what is held about a person"),
    _r("GET", "/subject-data/{person_id}", "invitation", DPO, True, "export a person's data", internal=True),
    _r("GET", "/subject-data/{person_id}", "case", DPO, True, "export a person's data", internal=True),
    _r("GET", "/subject-data/{person_id}", "referral", DPO, True, "export a person's data", internal=True),
    _r(
        "GET", "/subject-data/{person_id}", "notification", DPO, True, "export a person's data", internal=True
    ),
    # every service's own audit of the personal data it served directly, not through the gateway
    *(
        _r("GET", "/audit/direct", service, AUDITORS, False, "read the direct reads of personal data")
        for service in ("invitation", "case", "referral", "notification", "privacy")
    ),
    # the gateway's own routes (under /api)
    _r("GET", "/views/caseload", "gateway", READERS, True, "coach caseload review"),
    _r("GET", "/views/cases/{case_id}", "gateway", READERS, True, "case file review"),
    _r("GET", "/views/partner-inbox", "gateway", PARTNERS, True, "partner inbox"),
    _r("GET", "/views/kpis", "gateway", STATISTICS, False, "read operations indicators"),
    _r("GET", "/audit", "gateway", AUDITORS, False, "read the audit log"),
    _r("GET", "/audit/direct", "gateway", AUDITORS, False, "read every service's direct reads"),
)


class NoSuchRoute(LookupError):
    """The platform has no such operation (404)."""


class NotAllowed(PermissionError):
    """The caller's role may not use this operation (403)."""


def route_for(method: str, path: str) -> Route:
    """The operation a concrete `method path` is (the gateway's forwarding; internal rows are
    called between services only)."""
    for route in ROUTES:
        if not route.internal and route.matches(method, path):
            return route
    raise NoSuchRoute(f"{method} {path}")


def declared(service: str, method: str, path: str) -> Route:
    """The row of the route a service declares (its path template, exactly)."""
    for route in ROUTES:
        if route.service == service and route.method == method and route.path == path:
            return route
    raise NoSuchRoute(f"{service}: {method} {path} is not in the route table (icam_auth.policy.ROUTES)")


def authorise(principal: Principal, route: Route) -> Route:
    """`route` if `principal` may call it; NotAllowed (403) otherwise."""
    if not route.allows(principal):
        allowed = ", ".join(sorted(r.value for r in route.roles))
        raise NotAllowed(
            f"role {principal.role.value} is not allowed to {route.purpose} (allowed: {allowed})"
        )
    return route
