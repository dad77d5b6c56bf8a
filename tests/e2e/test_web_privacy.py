"""The data-protection officer in the browser: a coach invites two households through the API; the
DPO orders the erasure of one person (a missing basis, an unknown person and a second order are each
named on the form), watches the receipt complete by itself, reads what is held about the other
person and downloads the PDF, holds and releases a household's retention, reads the key-access log.
An auditor reads receipts only; a coach opens none of these pages."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from icam_auth import Principal, Role
from icam_platform.journeys import (
    Gateway,
    GatewayError,
    coach,
    eventually,
    household,
    open_case_of,
    send_invitation,
    soon,
)
from icam_testing.browser import Visitor, off_thread
from icam_testing.platform_under_test import PlatformUnderTest

pytestmark = pytest.mark.e2e
COACH = "demo-coach-brussels-1"
DPO = Principal("demo-dpo", Role.DATA_PROTECTION_OFFICER)
PAGES = ("/erasures", "/erasures/new", "/retention", "/subjects", "/key-access")


def invited(platform: PlatformUnderTest, tag: str) -> tuple[Any, Any]:
    """Two Brussels households invited by the coach through the gateway, both known to the privacy
    service (it learns them from the topics); the second one's case open."""

    async def invite() -> tuple[Any, Any]:
        gw = Gateway(platform.gateway_url, platform.issuer.mint)
        try:
            me = coach(COACH, "brussels")
            target = await invite_one(gw, me, f"Erase{tag}", slot=0)
            other = await invite_one(gw, me, f"Keep{tag}", slot=1)
            await open_case_of(gw, me, other)
            for home in (target, other):
                await eventually(
                    lambda home=home: known_to_privacy(gw, home.adult_id),
                    timeout=60,
                    what="privacy knows them",
                )
            return target, other
        finally:
            await gw.aclose()

    return off_thread(invite())


async def invite_one(gw: Gateway, me: Principal, name: str, slot: int, attempts: int = 3) -> Any:
    """An invitation sent; on a loaded machine the invitation service may time out (504): a fresh
    household then (a stray one left behind harms nothing here)."""
    for attempt in range(attempts):
        home = household(name=name)
        try:
            # a slot of its own per household and attempt: the coach is never double-booked
            await send_invitation(gw, me, home, at=soon(120 + 3600 * slot + 600 * attempt))
            return home
        except GatewayError as error:
            if error.status != 504 or attempt == attempts - 1:
                raise
            await asyncio.sleep(5)
    raise AssertionError("unreachable")


async def known_to_privacy(gw: Gateway, person_id: str) -> bool | None:
    answer = await gw.call(DPO, "GET", f"/api/subjects/{person_id}", params={"format": "json"})
    return True if answer.status_code == 200 and answer.json()["privacy"]["households"] else None


def order(dpo: Visitor, person_id: str, basis: str | None, reference: str = "") -> None:
    dpo.visit("/erasures/new")
    dpo.page.fill("input[name=person_id]", person_id)
    if basis:
        dpo.page.select_option("select[name=legal_basis]", basis)
    dpo.page.fill("input[name=order_reference]", reference)
    dpo.page.locator('form[action="/erasures/confirm"] button[type=submit]').click()
    dpo.page.wait_for_load_state("load")


def confirm(dpo: Visitor) -> None:
    dpo.page.locator('form[action="/erasures"] button[type=submit]').click()
    dpo.page.wait_for_load_state("load")


def test_the_dpo_erases_a_person_reads_another_and_holds_retention(
    visitors: Callable[..., Visitor], platform_under_test: PlatformUnderTest
) -> None:
    tag = uuid.uuid4().hex[:6]
    target, other = invited(platform_under_test, tag)
    dpo = visitors("demo-dpo")
    dpo.sign_in("/erasures")
    assert dpo.page.url.endswith("/erasures")
    dpo.seen("privacy 01 erasures (fr)")
    dpo.choose_language("en")

    order(dpo, target.adult_id, None)
    assert "Choose the legal basis of the erasure." in dpo.text()
    assert dpo.page.input_value("input[name=person_id]") == target.adult_id  # what was typed stays
    dpo.seen("privacy 02 order without a legal basis")

    order(dpo, f"OE-never-met-{tag}", "purpose_ended")
    confirm(dpo)
    assert "No household of the platform has this dossier reference." in dpo.text()

    order(dpo, target.adult_id, "consent_withdrawn", f"DPO-{tag}")
    assert "This cannot be undone" in dpo.text() and f"DPO-{tag}" in dpo.text()
    dpo.seen("privacy 03 confirm the erasure")
    confirm(dpo)
    assert re.search(r"/erasures/[0-9a-f-]{36}\?done=erasure", dpo.page.url)
    receipt_url = dpo.page.url.split("?")[0]
    # the receipt refreshes itself (htmx) until every service reported: no reload here
    dpo.page.get_by_text("Every service reported what it purged.").wait_for(timeout=90_000)
    text = dpo.text()
    assert "Complete" in text and target.adult_id in text and f"DPO-{tag}" in text
    for service in ("invitation", "case", "referral", "notification", "privacy"):
        assert dpo.page.locator("#receipt tbody td", has_text=re.compile(f"^{service}$")).count() >= 1, (
            service
        )
    dpo.seen("privacy 04 erasure receipt complete")

    order(dpo, target.adult_id, "purpose_ended")
    confirm(dpo)
    assert dpo.page.locator("#person_id-error").inner_text().endswith("the first order's receipt stands.")
    first = dpo.page.get_by_role("link", name="See the receipt of the first erasure")
    assert first.get_attribute("href") == receipt_url.removeprefix(dpo.web_url)
    dpo.seen("privacy 05 already erased")

    dpo.visit("/erasures")
    assert target.adult_id in dpo.text() and f"DPO-{tag}" in dpo.text()
    dpo.seen("privacy 06 erasure receipts")

    dpo.visit(f"/subjects?person_id={target.adult_id}")
    # erased: what is still held are ids and facts (events, blanked rows), never the person's data
    assert "case service" in dpo.text() and f"Erase{tag}" not in dpo.page.content()
    dpo.visit(f"/subjects?person_id={other.adult_id}")
    assert "case service" in dpo.text() and f"Keep{tag}" in dpo.page.content()
    dpo.seen("privacy 07 subject access")
    with dpo.page.expect_download() as pdf:
        dpo.page.get_by_role("link", name="Download the PDF").click()
    body = Path(pdf.value.path()).read_bytes()
    assert body.startswith(b"%PDF") and pdf.value.suggested_filename.endswith(".pdf")
    with dpo.page.expect_download() as exported:
        dpo.page.get_by_role("link", name="Download the JSON").click()
    assert f"Keep{tag}".encode() in Path(exported.value.path()).read_bytes()

    dpo.visit("/retention")
    assert other.household_id[:8] in dpo.text() and target.household_id[:8] not in dpo.text()
    dpo.visit(f"/retention/{other.household_id}/hold")
    dpo.seen("privacy 08 place a legal hold")
    dpo.page.locator("button[type=submit]", has_text="Place the hold").click()
    assert "Say why the data must be kept" in dpo.page.locator("#basis-error").inner_text()
    dpo.page.fill("input[name=basis]", "appeal pending before the Council for Alien Law Litigation")
    dpo.page.fill("input[name=order_reference]", f"HOLD-{tag}")
    dpo.page.locator("button[type=submit]", has_text="Place the hold").click()
    dpo.page.wait_for_url("**/retention?done=hold**")
    row = dpo.page.locator("tr", has_text=other.household_id[:8])
    assert "held" in row.inner_text() and f"HOLD-{tag}" in row.inner_text()
    dpo.seen("privacy 09 retention with a hold")
    row.get_by_role("button", name=re.compile("Release the hold")).click()
    dpo.page.wait_for_url("**/retention?done=released**")
    assert "Release the hold" not in dpo.page.locator("tr", has_text=other.household_id[:8]).inner_text()

    dpo.visit("/key-access")
    callers = dpo.page.locator("tbody tr td:nth-child(2) a").all_inner_texts()
    assert callers, "the services obtained keys: the log has rows"
    dpo.page.fill("input[name=caller]", callers[0])
    dpo.page.locator("form[role=search] button[type=submit]").click()
    dpo.page.wait_for_load_state("load")
    assert set(dpo.page.locator("tbody tr td:nth-child(2) a").all_inner_texts()) == {callers[0]}
    dpo.seen("privacy 10 key access filtered by caller")
    dpo.choose_language("nl")
    dpo.visit(receipt_url.removeprefix(dpo.web_url))
    assert "Ontvangstbewijs van de wissing" in dpo.text()
    dpo.seen("privacy 11 erasure receipt (nl)")


def test_an_auditor_reads_receipts_and_a_coach_opens_no_dpo_page(visitors: Callable[..., Visitor]) -> None:
    auditor = visitors("demo-auditor")
    auditor.sign_in("/erasures")
    assert auditor.page.get_by_role("link", name=re.compile("suppression", re.I)).count() >= 1  # the menu
    assert auditor.page.locator('a[href="/erasures/new"]').count() == 0
    assert auditor.visit("/key-access").status == 200
    for path in ("/erasures/new", "/retention", "/subjects"):
        assert auditor.visit(path).status == 403, path
    auditor.seen("privacy 12 auditor refused an erasure order (fr)")

    me = visitors(COACH)
    me.sign_in("/agenda")
    for path in PAGES:
        response = me.visit(path)
        assert response.status == 403, path
        assert "Vous ne pouvez pas ouvrir cette page" in me.text()
    me.seen("privacy 13 coach refused the erasures (fr)")
