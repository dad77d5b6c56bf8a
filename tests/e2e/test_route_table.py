"""The route table is the single source of who may call what (icam_auth.policy.ROUTES): generated
from it, these walk every row against the platform as processes.

* every row is an operation its service really has, and every service operation is a row;
* each role is allowed or refused the same way by the owning service (called directly) and by the
  gateway — the system token and the auditor read no personal data anywhere;
* every read of personal data through the gateway writes an audit row.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from icam_auth import Principal, Role
from icam_auth.policy import ROUTES, Route
from icam_platform.journeys import (
    Gateway,
    coach,
    decide_outcome,
    eventually,
    hold_interview,
    household,
    open_case_of,
    partner,
    referral_in_inbox,
    send_invitation,
    soon,
)
from icam_testing.platform_under_test import PlatformUnderTest

pytestmark = pytest.mark.e2e

EVERYONE = (
    Principal("coach-table", Role.COACH, region="brussels"),
    Principal("lead-table", Role.TEAM_LEAD, region="brussels"),
    Principal("fedasil-table", Role.RETURN_PARTNER, organisation="fedasil"),
    Principal("ops-table", Role.OPS_VIEWER),
    Principal("audit-table", Role.AUDITOR),
    Principal("admin-table", Role.ADMIN),
    Principal("icam-batch", Role.SYSTEM),
    Principal("dpo-table", Role.DATA_PROTECTION_OFFICER),
    Principal("icam-case", Role.SERVICE),
    Principal("subscriber-table", Role.SUBSCRIBER, organisation="statistics"),
)
# what a read of personal data by POST sends (a duplicate check: the people of a first contact)
BODIES = {
    "/duplicates/check": {"members": [{"given_name": "Sam", "family_name": "Example"}]},
    "/keys/release": {"key_ids": [str(uuid.uuid4())]},
}
NON_OPERATIONS = re.compile(r"^/(health|metrics|docs|redoc|openapi|\.well-known)")


def fill(route: Route, principal: Principal, ids: dict[str, str] | None = None) -> str:
    """A concrete path of `route`: unknown ids (so nothing is found), or the journey's `ids`."""
    known = {
        "desk": "brussels_pacheco",
        "office": "brussels",
        "code": "fedasil",
        "coach_id": principal.subject,
    }
    known |= ids or {}
    return re.sub(r"\{([^}]+)\}", lambda m: known.get(m.group(1), str(uuid.uuid4())), route.path)


def url_of(platform: PlatformUnderTest, route: Route) -> str:
    if route.service == "gateway":
        return platform.gateway_url + "/api"
    return next(s.url for s in platform.services if s.name == route.service)


async def status_of(
    client: httpx.AsyncClient, platform: PlatformUnderTest, principal: Principal, url: str, route: Route
) -> int:
    token = platform.token(principal.role, principal.subject, principal.region, principal.organisation)
    headers = {"authorization": f"Bearer {token}"}
    response = await client.request(
        route.method, url, json={} if route.method == "POST" else None, headers=headers
    )
    return response.status_code


async def test_every_row_is_an_operation_of_its_service_and_every_operation_a_row(
    platform_under_test: PlatformUnderTest,
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        owners = {r.service for r in ROUTES}
        for service in (s for s in platform_under_test.services if s.name in owners):
            document = (await client.get(f"{service.url}/openapi.json")).json()
            declared = {
                (method.upper(), path)
                for path, operations in document["paths"].items()
                for method in operations
                if not NON_OPERATIONS.match(path) and not path.startswith("/api/{path")
            }
            if service.name == "gateway":  # it serves every row, its own and the forwarded ones
                rows = {(r.method, "/api" + r.path) for r in ROUTES}
            else:
                rows = {(r.method, r.path) for r in ROUTES if r.service == service.name}
            assert declared == rows, service.name


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
async def test_each_role_is_allowed_or_refused_alike_by_the_service_and_the_gateway(
    platform_under_test: PlatformUnderTest, route: Route
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        for principal in EVERYONE:
            path = fill(route, principal)
            at_service = await status_of(
                client, platform_under_test, principal, url_of(platform_under_test, route) + path, route
            )
            at_gateway = await status_of(
                client, platform_under_test, principal, platform_under_test.gateway_url + "/api" + path, route
            )
            refused = principal.role not in route.roles
            assert (at_service == 403) is refused, f"{principal.role}: service answered {at_service}"
            if route.internal:  # between services only: the gateway does not forward it, to anyone
                assert at_gateway == 404, f"{principal.role}: gateway answered {at_gateway}"
            else:
                assert (at_gateway == 403) is refused, f"{principal.role}: gateway answered {at_gateway}"


_LETTERS = str.maketrans("0123456789", "ghijklmnop")


async def test_every_read_of_personal_data_through_the_gateway_is_audited(
    gateway: Gateway, platform_under_test: PlatformUnderTest
) -> None:
    me, fedasil = coach("coach-audited", "brussels"), partner("fedasil-audited", "fedasil")
    home = household()
    sent = await send_invitation(gateway, me, home, at=soon(30), channels=("postal_letter", "email"))
    case = await open_case_of(gateway, me, home)
    await hold_interview(gateway, me, case["case_id"], home)
    await decide_outcome(
        gateway, me, case["case_id"], "return_accepted", consent_to_referral=True, preferred_partner="fedasil"
    )
    referral = await referral_in_inbox(gateway, fedasil, case["case_id"])
    letter = await eventually(
        lambda: _letter(gateway, me, case["case_id"]), what="the invitation letter", timeout=30
    )
    request = await gateway.post(
        me,
        "/api/appointment-requests",
        {"entry_channel": "helpline_phone", "language": "fr", "members": home.members},
    )
    pdf = b"%PDF-1.4\n%%EOF\n"
    document = await gateway.client.post(
        f"{gateway.base_url}/api/cases/{case['case_id']}/documents",
        params={"kind": "signed_consent"},
        content=pdf,
        headers={"authorization": f"Bearer {gateway.tokens(me)}", "content-type": "application/pdf"},
    )
    link = await gateway.post(me, f"/api/cases/{case['case_id']}/documents/{document.json()['id']}/link", {})
    ids = {
        "document_id": document.json()["id"],
        "case_id": case["case_id"],
        "invitation_id": sent["stream_id"],
        "request_id": request["stream_id"],
        "referral_id": referral["referral_id"],
        "notification_id": letter,
    }
    today = datetime.now(UTC).date().isoformat()
    token = link["url"].split("token=")[1]
    params = {"day": today, "case_id": case["case_id"], "household_id": home.household_id, "token": token}
    ids["person_id"] = home.members[0]["person_id"]
    readers = (
        me,
        fedasil,
        Principal("dpo-audited", Role.DATA_PROTECTION_OFFICER),
        Principal("icam-case", Role.SERVICE),
    )

    for route in (r for r in ROUTES if r.personal_data and not r.internal):
        who = next(reader for reader in readers if reader.role in route.roles)
        path = "/api" + fill(route, who, ids)
        # letters only: a purpose is scrubbed before it is kept, and hex digits such as 04712345
        # read as a phone number (about one run in ten drew one)
        purpose = f"audit check {uuid.uuid4().hex[:8].translate(_LETTERS)}"
        body = BODIES.get(route.path) if route.method == "POST" else None
        # the gateway checks the caseload's filters itself and refuses the others' parameters
        asked = {} if route.path == "/views/caseload" else params
        response = await gateway.call(who, route.method, path, json=body, params=asked, purpose=purpose)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:200]}"
        log = await gateway.get(
            Principal("audit-1", Role.AUDITOR), "/api/audit", subject=who.subject, limit=20
        )
        assert any(e["purpose"] == purpose for e in log), f"no audit row for {path}"


async def _letter(gateway: Gateway, me: Principal, case_id: str) -> str | None:
    page = await gateway.get(me, "/api/notifications", case_id=case_id)
    letters = [n for n in page["items"] if n["channel"] == "postal_letter" and n["status"] == "sent"]
    return letters[0]["notification_id"] if letters else None
