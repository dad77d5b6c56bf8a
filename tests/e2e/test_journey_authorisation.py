"""Journey 4: every role tries what it must not do and is refused (403), through the gateway and again in
the services; every read of personal data shows up in the audit log with who, what, when and why."""

from __future__ import annotations

import pytest

from icam_auth import Principal, Role
from icam_platform.journeys import (
    Gateway,
    GatewayError,
    coach,
    decide_outcome,
    hold_interview,
    household,
    open_case_of,
    partner,
    send_invitation,
    soon,
)

pytestmark = pytest.mark.e2e

OPS = Principal("ops-e2e", Role.OPS_VIEWER)
AUDITOR = Principal("auditor-e2e", Role.AUDITOR)


async def refused(gateway: Gateway, principal: Principal, method: str, path: str, body: object = None) -> int:
    response = await gateway.call(principal, method, path, json=body)
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return response.status_code


async def test_each_role_is_refused_what_it_must_not_do_and_reads_are_audited(gateway: Gateway) -> None:
    mine = coach("coach-e2e-d", "brussels")
    colleague = coach("coach-e2e-e", "brussels")
    elsewhere = coach("coach-e2e-f", "liege")
    iom = partner("iom-e2e", "iom")
    home = household()
    await send_invitation(gateway, mine, home, at=soon(120))
    case = await open_case_of(gateway, mine, home)
    case_path = f"/api/cases/{case['case_id']}"
    await gateway.get(mine, case_path)  # a legitimate read, to be found in the audit log

    # a coach of another region cannot read the case; a colleague cannot work on a case not theirs
    assert await refused(gateway, elsewhere, "GET", case_path) == 403
    with pytest.raises(GatewayError) as not_assigned:
        await hold_interview(gateway, colleague, case["case_id"], home)
    assert not_assigned.value.status == 403
    # a return partner sees neither cases nor invitations, nor another partner's inbox
    assert await refused(gateway, iom, "GET", case_path) == 403
    assert await refused(gateway, iom, "POST", "/api/invitations", {}) == 403
    assert await refused(gateway, iom, "GET", "/api/partners/fedasil/inbox") == 403
    # operations see statistics, never personal data
    assert await refused(gateway, OPS, "GET", case_path) == 403
    assert await refused(gateway, OPS, "GET", "/api/caseload") == 403
    assert (await gateway.call(OPS, "GET", "/api/views/kpis")).status_code == 200
    # the auditor reads the audit log, not the files
    assert await refused(gateway, AUDITOR, "GET", case_path) == 403
    # a coach cannot decide without an interview, nor act as a partner
    with pytest.raises(GatewayError) as too_early:
        await decide_outcome(gateway, mine, case["case_id"], "return_refused", consequences_explained=True)
    assert too_early.value.status in (409, 422)
    assert (
        await refused(
            gateway, mine, "POST", "/api/referrals/00000000-0000-0000-0000-000000000000/acknowledge", {}
        )
        == 403
    )
    # without a token, nothing
    anonymous = await gateway.client.get(gateway.base_url + case_path)
    assert anonymous.status_code == 401

    log = await gateway.get(AUDITOR, "/api/audit", subject=mine.subject)
    reads = [entry for entry in log if entry["path"] == f"/cases/{case['case_id']}"]
    assert reads and reads[0]["role"] == "coach" and reads[0]["purpose"]
    assert all(entry["subject"] != elsewhere.subject for entry in await gateway.get(AUDITOR, "/api/audit"))
