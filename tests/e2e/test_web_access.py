"""Who sees what in the browser: a Liège coach cannot open a Brussels case; an operations viewer
sees no name anywhere (the dashboard, its exports, and every screen it is refused); an expired
session sends the person to sign in and back, and the half-written interview note is still there."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from icam_platform.journeys import Gateway, coach, household, just_now, open_case_of, send_invitation, soon
from icam_testing.browser import Visitor, off_thread
from icam_testing.platform_under_test import PlatformUnderTest

pytestmark = pytest.mark.e2e


_SLOTS = itertools.count()


def brussels_case(platform: PlatformUnderTest, coach_id: str, name: str) -> dict[str, Any]:
    """A Brussels household invited through the gateway by `coach_id`; its case, once open. Each
    call takes a later time, so that two tests in a row never double-book the same coach."""
    minutes_ahead = 2 + next(_SLOTS)

    async def invite() -> dict[str, Any]:
        gw = Gateway(platform.gateway_url, platform.issuer.mint)
        try:
            me, home = coach(coach_id, "brussels"), household(name=name)
            await send_invitation(gw, me, home, at=soon(60 * minutes_ahead))
            return await open_case_of(gw, me, home)
        finally:
            await gw.aclose()

    return off_thread(invite())


def test_a_liege_coach_cannot_open_a_brussels_case(
    visitors: Callable[..., Visitor], platform_under_test: PlatformUnderTest
) -> None:
    case = brussels_case(platform_under_test, "demo-coach-brussels-2", f"Exemple{uuid.uuid4().hex[:6]}")
    liege = visitors("demo-coach-liege-1")
    liege.sign_in("/agenda")
    response = liege.visit(f"/cases/{case['case_id']}")
    assert response.status == 403
    assert "Vous ne pouvez pas ouvrir cette page" in liege.text()
    liege.seen("access 01 liege coach refused a brussels case (fr)")
    assert liege.visit(f"/cases/{case['case_id']}/interview").status == 403


def test_an_operations_viewer_sees_no_name_anywhere(
    visitors: Callable[..., Visitor], platform_under_test: PlatformUnderTest
) -> None:
    name = f"Fictif{uuid.uuid4().hex[:6]}"
    case = brussels_case(platform_under_test, "demo-coach-brussels-2", name)
    ops = visitors("demo-ops")
    ops.sign_in("/ops")
    seen = [ops.text()]
    for path in ("/ops/export.csv", "/ops/export.xlsx"):
        answer = ops.page.request.get(ops.web_url + path)
        assert answer.status == 200
        seen.append(answer.body().decode("latin-1"))
    for path in ("/cases", f"/cases/{case['case_id']}", "/agenda", "/partner", "/audit", "/team"):
        assert ops.visit(path).status == 403, path
        seen.append(ops.text())
    everything = "\n".join(seen)
    assert name not in everything and case["household_id"] not in everything
    ops.seen("access 02 ops viewer refused a case file")


def test_an_expired_session_keeps_the_half_written_interview_note(
    visitors: Callable[..., Visitor], platform_under_test: PlatformUnderTest
) -> None:
    case = brussels_case(platform_under_test, "demo-coach-brussels-3", f"Voorbeeld{uuid.uuid4().hex[:6]}")
    me = visitors("demo-coach-brussels-3")
    form = f"/cases/{case['case_id']}/interview"
    me.sign_in(form)
    note = "Half-written note: passport copy promised for next week, family wants"
    me.page.fill("textarea[name=notes]", note)
    off_thread(expire_sessions(platform_under_test.database_urls["web"], "demo-coach-brussels-3"))

    me.page.locator(f'form[method=post][action="{form}"] button[type=submit]').click()
    me.page.locator('button[value="demo-coach-brussels-3"]').click()  # the provider's sign-in page
    me.page.wait_for_url(f"**{form}")
    assert me.page.input_value("textarea[name=notes]") == note
    assert me.page.locator("[data-draft-note]").count() == 1
    me.seen("access 03 draft restored after signing in again (fr)")

    me.page.locator(f'form[method=post][action="{form}"] button[type=submit]').click()
    me.page.wait_for_url("**done=interview**")
    me.visit(form)
    assert me.page.input_value("textarea[name=notes]") == ""  # the draft went with the submission


async def expire_sessions(database_url: str, subject: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "update web_sessions set expires_at = now() - interval '1 second' where subject = $1", subject
        )
    finally:
        await conn.close()


def test_a_conflicting_change_is_shown_and_the_outcome_form_offers_to_reload(
    visitors: Callable[..., Visitor], platform_under_test: PlatformUnderTest
) -> None:
    coach_id = "demo-coach-brussels-2"
    case = brussels_case(platform_under_test, coach_id, f"Sample{uuid.uuid4().hex[:6]}")
    me = visitors(coach_id)
    form = f"/cases/{case['case_id']}/outcome"
    me.sign_in(form)
    me.choose_language("en")
    me.page.check('input[name=outcome][value="return_refused"]')
    me.page.fill("textarea[name=rationale]", "No ground for a stay application.")
    me.page.fill("textarea[name=communicated]", "Consequences explained.")
    me.page.check('input[name=consequences_explained][value="yes"]')
    off_thread(interview_elsewhere(platform_under_test, coach_id, case))  # a colleague's tab, meanwhile

    me.page.locator(f'form[method=post][action="{form}"] button[type=submit]').click()
    assert "Someone else changed this case" in me.text()
    assert "Intake interview #1 held" in me.text()  # what changed, from the timeline
    assert me.page.input_value("textarea[name=rationale]") == "No ground for a stay application."
    me.seen("access 04 outcome refused after a conflicting change (en)")
    me.page.locator(
        f'form[method=post][action="{form}"] button[type=submit]'
    ).click()  # now on the fresh case
    me.page.wait_for_url("**done=proposed**")  # C is proposed: it takes effect once a team lead approves
    assert "once a team lead of the region approves it" in me.text()


async def interview_elsewhere(platform: PlatformUnderTest, coach_id: str, case: dict[str, Any]) -> None:
    gw = Gateway(platform.gateway_url, platform.issuer.mint)
    try:
        found = await gw.get(coach(coach_id, "brussels"), f"/api/cases/{case['case_id']}")
        body = {
            "occurred_at": just_now(),
            "kind": "intake",
            "language": "fr",
            "attendees": [found["members"][0]["person_id"]],
            "interpreter_present": False,
        }
        await gw.post(coach(coach_id, "brussels"), f"/api/cases/{case['case_id']}/interviews", body)
    finally:
        await gw.aclose()


def test_a_walk_in_visit_is_registered_at_the_desk_and_opens_a_case(visitors: Callable[..., Visitor]) -> None:
    desk = visitors("demo-coach-liege-2")
    desk.sign_in("/desk")
    reference = f"OE{uuid.uuid4().hex[:6].upper()}"
    desk.page.fill("input[name=person_id]", reference)
    desk.page.fill("input[name=given_name]", "Kim")
    desk.page.fill("input[name=family_name]", "Beispiel")
    desk.page.select_option("select[name=preferred_language]", "de")
    desk.page.check('input[name=outcome][value="interview_on_the_spot"]')
    desk.page.locator('form[method=post][action$="/visits"] button[type=submit]').click()
    desk.page.wait_for_url("**done=visit**")
    assert desk.page.locator("#visits tbody tr").count() >= 1
    desk.seen("access 05 walk-in visit registered (fr)")
    deadline = 40
    while desk.page.locator('#visits a[href^="/cases/"]').count() == 0 and deadline:
        desk.page.wait_for_timeout(1000)
        desk.visit("/desk")
        deadline -= 1
    desk.page.locator('#visits a[href^="/cases/"]').first.click()
    assert reference in desk.text()  # the visitor's case, ready for the interview on the spot
