"""The gateway's route table: each role reaches what it needs and nothing else."""

from __future__ import annotations

import pytest

from icam_auth import Principal, Role
from icam_auth.policy import ROUTES, Route
from icam_auth.policy import authorise as authorise_route
from icam_auth.principal import PERSONAL_DATA_ROLES
from icam_gateway.policy import NoSuchRoute, NotAllowed, authorise

pytestmark = pytest.mark.unit

COACH = Principal("coach-17", Role.COACH, region="brussels")
LEAD = Principal("lead-1", Role.TEAM_LEAD, region="brussels")
PARTNER = Principal("fedasil-user-3", Role.RETURN_PARTNER, organisation="fedasil")
OPS = Principal("ops-1", Role.OPS_VIEWER)
AUDITOR = Principal("audit-1", Role.AUDITOR)


@pytest.mark.parametrize(
    ("principal", "method", "path", "service"),
    [
        (COACH, "POST", "/invitations", "invitation"),
        (COACH, "POST", "/cases/7f0c/interviews", "case"),
        (COACH, "GET", "/cases/7f0c/timeline", "case"),
        (LEAD, "POST", "/cases/7f0c/assign", "case"),
        (PARTNER, "POST", "/referrals/r-1/acknowledge", "referral"),
        (PARTNER, "GET", "/partners/fedasil/inbox", "referral"),
        (OPS, "GET", "/stats/funnel", "invitation"),
        (OPS, "GET", "/stats/outcomes", "case"),
    ],
)
def test_each_role_reaches_the_service_that_owns_its_work(
    principal: Principal, method: str, path: str, service: str
) -> None:
    assert authorise(principal, method, path).service == service


@pytest.mark.parametrize(
    ("principal", "method", "path"),
    [
        (OPS, "GET", "/cases/7f0c"),
        (OPS, "GET", "/notifications"),
        (PARTNER, "GET", "/cases/7f0c"),
        (PARTNER, "POST", "/invitations"),
        (COACH, "POST", "/referrals/r-1/acknowledge"),
        (AUDITOR, "GET", "/caseload"),
        (COACH, "GET", "/partners/fedasil/inbox"),
    ],
)
def test_a_role_outside_its_remit_is_forbidden(principal: Principal, method: str, path: str) -> None:
    with pytest.raises(NotAllowed):
        authorise(principal, method, path)


def test_an_unknown_route_is_not_found_rather_than_forwarded() -> None:
    with pytest.raises(NoSuchRoute):
        authorise(COACH, "DELETE", "/cases/7f0c")


def test_personal_data_routes_are_marked_for_the_audit() -> None:
    assert authorise(COACH, "GET", "/cases/7f0c").personal_data
    assert not authorise(OPS, "GET", "/stats/outcomes").personal_data


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.personal_data], ids=lambda r: f"{r.method} {r.path}"
)
def test_no_row_of_personal_data_is_open_to_a_role_that_may_see_none(route: Route) -> None:
    assert route.roles <= PERSONAL_DATA_ROLES
    with pytest.raises(NotAllowed):
        authorise_route(Principal("icam-batch", Role.SYSTEM), route)
