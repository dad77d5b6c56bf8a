"""The case file as the coach opens it: one composed answer from every service (the gateway's view)."""

from __future__ import annotations

import pytest

from icam_platform.journeys import (
    Gateway,
    coach,
    eventually,
    hold_interview,
    household,
    open_case_of,
    send_invitation,
    soon,
)

pytestmark = pytest.mark.e2e


async def test_the_case_file_shows_the_household_its_letters_and_the_interview_just_recorded(
    gateway: Gateway,
) -> None:
    me = coach("coach-e2e-view", "brussels")
    home = household(name="Ndiaye-Öztürk")
    await send_invitation(gateway, me, home, at=soon(120))
    case = await open_case_of(gateway, me, home)
    by_name = await gateway.get(me, "/api/views/caseload", q="ndiaye-ozturk", region="brussels")
    assert case["case_id"] in [c["case_id"] for c in by_name["items"]]

    async def letters_of_the_household() -> list | None:
        view = await gateway.get(me, f"/api/views/cases/{case['case_id']}")
        return view["notifications"]["items"] or None

    letters = await eventually(letters_of_the_household, what="the invitation's notifications in the view")
    assert {n["household_id"] for n in letters} == {home.household_id}
    recorded = await hold_interview(gateway, me, case["case_id"], home)
    view = await gateway.get(me, f"/api/views/cases/{case['case_id']}", min_position=recorded["position"])
    assert view["case"]["interviews_held"] == 1 and view["unavailable"] == []
    assert [m["family_name"] for m in view["case"]["members"]] == ["Ndiaye-Öztürk"]
    assert "InterviewHeld" in [e["event_type"] for e in view["timeline"]["items"]]
