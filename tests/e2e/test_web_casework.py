"""Case work in the browser (issue 14): four eyes on outcome C (sent back with a reason; never
approved by its proposer), the duplicate warning at first contact (an invitation and a walk-in),
documents on the case file (upload, view through the link, refusals next to the file field,
removal), household changes, the coach's to-do list and the team lead's overdue table, and bulk
moves with the receiving coach's agenda conflicts.

Every page seen is screenshotted and checked with axe-core (the `visitors` fixture)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from icam_platform.journeys import (
    Gateway,
    Household,
    coach,
    decide_outcome,
    hold_interview,
    household,
    open_case_of,
    send_invitation,
    soon,
    team_lead,
)
from icam_testing.browser import Visitor, off_thread
from icam_testing.platform_under_test import PlatformUnderTest

pytestmark = pytest.mark.e2e
BRUSSELS = ZoneInfo("Europe/Brussels")
REGION = "namur_luxembourg"
POSTAL = {"namur_luxembourg": ("5000", "Namur"), "liege": ("4000", "Liège")}
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>"
    b"endobj 3 0 obj<</Type/Page/MediaBox[0 0 200 200]/Parent 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def a_case(
    platform: PlatformUnderTest,
    coach_id: str,
    *,
    region: str = REGION,
    name: str = "Exemple",
    at: str | None = None,
    interview: bool = False,
    born: str | None = None,
) -> tuple[dict[str, Any], Household]:
    """A household invited through the gateway by `coach_id` (postal code of the region), its case
    once open, and optionally an intake interview held."""
    code, town = POSTAL[region]

    async def prepare() -> tuple[dict[str, Any], Household]:
        gw = Gateway(platform.gateway_url, platform.issuer.mint)
        try:
            me, home = coach(coach_id, region), household(name=name, postal_code=code, municipality=town)
            if born:
                home.members[0]["birth_date"] = born
            await send_invitation(gw, me, home, at=at or soon(600))
            case = await open_case_of(gw, me, home)
            if interview:
                await hold_interview(gw, me, case["case_id"], home)
            return case, home
        finally:
            await gw.aclose()

    return off_thread(prepare())


def submit(visitor: Visitor, action: str) -> None:
    visitor.page.locator(f'form[method=post][action="{action}"] button[type=submit]').first.click()
    visitor.page.wait_for_load_state("load")


def propose_c(visitor: Visitor, case_id: str) -> None:
    page = visitor.page
    visitor.visit(f"/cases/{case_id}/outcome")
    page.check('input[name=outcome][value="return_refused"]')
    page.fill("textarea[name=rationale]", "No stay possible; voluntary return refused after two talks.")
    page.fill("textarea[name=communicated]", "Consequences explained: forced return, possibly detention.")
    page.check('input[name=consequences_explained][value="yes"]')
    submit(visitor, f"/cases/{case_id}/outcome")


def test_a_proposal_is_sent_back_with_a_reason_and_never_approved_by_its_proposer(
    visitors: Callable[..., Visitor], platform_under_test: PlatformUnderTest
) -> None:
    case, _ = a_case(platform_under_test, f"demo-coach-{REGION}-1", interview=True)
    case_id = case["case_id"]
    me = visitors(f"demo-coach-{REGION}-1")
    me.sign_in("/agenda")
    me.choose_language("en")
    propose_c(me, case_id)
    assert "done=proposed" in me.page.url and "Awaiting team-lead approval" in me.text()
    assert me.visit(f"/cases/{case_id}/approval").status == 403  # a coach approves nothing

    lead = visitors(f"demo-lead-{REGION}")
    lead.sign_in(f"/cases/{case_id}/approval")
    lead.choose_language("en")
    submit(lead, f"/cases/{case_id}/approval/reject")  # no reason: the service says so, next to it
    assert lead.page.locator("#reason-error").count() == 1
    lead.page.fill("textarea[name=reason]", "Explain the consequences again with an interpreter.")
    submit(lead, f"/cases/{case_id}/approval/reject")
    assert "done=sent_back" in lead.page.url and "Proposal sent back to the coach" in lead.text()

    me.visit(f"/cases/{case_id}")
    assert "The proposed outcome was sent back" in me.text()
    assert "Explain the consequences again with an interpreter." in me.text()
    me.seen("casework 01 coach reads the proposal sent back (en)")

    other, _ = a_case(platform_under_test, f"demo-coach-{REGION}-2", interview=True)
    off_thread(propose_as_lead(platform_under_test, other["case_id"]))  # the team lead decides C
    lead.visit(f"/cases/{other['case_id']}/approval")
    lead.page.locator("#approve").click()
    lead.page.wait_for_load_state("load")
    assert lead.page.locator('[data-action-error="approve"]').count() == 1  # four eyes, beside the button
    assert (
        "another team lead of the region approves it" in lead.page.locator("[data-action-error]").inner_text()
    )
    lead.seen("casework 02 team lead may not approve their own proposal (en)")


async def propose_as_lead(platform: PlatformUnderTest, case_id: str) -> None:
    gw = Gateway(platform.gateway_url, platform.issuer.mint)
    try:
        await decide_outcome(
            gw,
            team_lead(f"demo-lead-{REGION}", REGION),
            case_id,
            "return_refused",
            consequences_explained=True,
        )
    finally:
        await gw.aclose()


def in_minutes(minutes: int) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).astimezone(BRUSSELS).strftime("%Y-%m-%dT%H:%M")


def fill_invitation(visitor: Visitor, reference: str, family: str, minutes: int, born: str = "") -> None:
    page = visitor.page
    visitor.visit("/invitations/new")
    page.fill("input[name=appointment_at]", in_minutes(minutes))
    page.fill("input[name=person_id]", reference)
    page.fill("input[name=given_name]", "Sam")
    page.fill("input[name=family_name]", family)
    page.fill("input[name=birth_date]", born)
    page.select_option("select[name=preferred_language]", "fr")
    page.fill("input[name=street]", "Rue de l'Exemple")
    page.fill("input[name=house_number]", "3")
    page.fill("input[name=postal_code]", "4000")
    page.fill("input[name=municipality]", "Liège")
    page.fill("input[name=email]", f"{reference.lower()}@example.org")
    submit(visitor, "/invitations/new")


def test_a_second_invitation_warns_of_the_existing_household_and_links_to_it(
    visitors: Callable[..., Visitor], platform_under_test: PlatformUnderTest
) -> None:
    region, born = "liege", "1990-04-02"
    tag = uuid.uuid4().hex[:6].upper()
    family = f"Verzonnen{tag}"
    first, home = a_case(platform_under_test, f"demo-coach-{region}-1", region=region, name=family, born=born)
    me = visitors(f"demo-coach-{region}-1")
    me.sign_in("/invitations/new")
    me.choose_language("en")

    fill_invitation(me, f"OX{tag}", family.replace("o", "ö"), 20, born)  # another spelling, another reference
    warning = me.page.locator("#duplicates")
    assert warning.count() == 1 and "Possible existing household" in warning.inner_text()
    assert "similar name (" in warning.inner_text() and "same birth date" in warning.inner_text()
    assert "/cases/" not in me.page.url  # nothing sent yet
    me.seen("casework 03 duplicate warning on the invitation form (en)")

    fill_invitation(me, home.adult_id, family, 25)  # the same dossier reference
    assert "same dossier reference" in me.page.locator("#duplicates").inner_text()
    me.page.locator(f'#duplicates input[name=match][value="{home.household_id}"]').check()
    submit(me, "/invitations/new")  # sent with match.linked_to: the invitation joins that household
    me.page.wait_for_url(re.compile(rf".*/cases/{first['case_id']}\?.*"), timeout=40_000)
    assert me.page.locator("section[aria-labelledby=invitations-title] tbody tr").count() == 2

    desk = visitors(f"demo-coach-{region}-3")
    desk.sign_in("/desk")
    desk.choose_language("en")
    desk.page.fill("input[name=person_id]", home.adult_id)
    desk.page.fill("input[name=given_name]", "Sam")
    desk.page.fill("input[name=family_name]", family)
    desk.page.check('input[name=outcome][value="interview_on_the_spot"]')
    desk.page.locator('form[action$="/visits"] button[type=submit]').click()
    desk.page.wait_for_load_state("load")
    assert "same dossier reference" in desk.page.locator("#duplicates").inner_text()
    desk.seen("casework 04 duplicate warning at the walk-in desk (en)")
    desk.page.locator("#match-new").check()  # the coach decides it is another household
    desk.page.locator('form[action$="/visits"] button[type=submit]').click()
    desk.page.wait_for_url("**done=visit**")


def pdf_named(name: str, content: bytes) -> dict[str, Any]:
    """A file as the browser's file field sends it: a name, a declared type, the bytes."""
    return {"name": name, "mimeType": "application/pdf", "buffer": content}


def test_documents_are_added_opened_and_taken_off_the_file(
    visitors: Callable[..., Visitor], platform_under_test: PlatformUnderTest, tmp_path: Path
) -> None:
    missing = [{"person_id": None, "element": "travel_document", "due_on": date.today().isoformat()}]
    case, home = a_case(platform_under_test, f"demo-coach-{REGION}-3", interview=True)
    off_thread(request_element(platform_under_test, case["case_id"], home, missing))
    case_id = case["case_id"]
    me = visitors(f"demo-coach-{REGION}-3")
    me.sign_in(f"/cases/{case_id}/documents/new")
    me.choose_language("en")
    page, form = me.page, f"/cases/{case_id}/documents/new"

    page.set_input_files("input[name=file]", files=pdf_named("passport.pdf", b"not a pdf, only text " * 20))
    page.select_option("select[name=kind]", "travel_document")
    submit(me, form)
    assert "Only PDF, JPEG and PNG" in page.locator("#file-error").inner_text()  # the forged type
    me.seen("casework 05 a forged document refused next to the file field (en)")

    big = tmp_path / "big.pdf"  # a path, not a buffer: the browser reads it from disk
    big.write_bytes(PDF + b"0" * (20 * 1024 * 1024))
    page.set_input_files("input[name=file]", files=str(big))
    page.select_option("select[name=kind]", "travel_document")
    submit(me, form)
    assert "over the limit" in page.locator("#file-error").inner_text()  # > 20 MiB, the gateway's 413

    page.set_input_files("input[name=file]", files=pdf_named("passport.pdf", PDF))
    page.select_option("select[name=kind]", "travel_document")
    page.select_option("select[name=person_id]", home.adult_id)
    page.select_option("select[name=element_id]", index=1)  # the travel document asked for
    submit(me, form)
    assert "done=document" in page.url and "Document added to the file" in me.text()
    assert page.locator("#documents tbody tr").count() == 1
    assert "received" in page.locator("section[aria-labelledby=elements-title]").inner_text()
    me.seen("casework 06 case file with its document (en)")

    href = page.locator("#documents a[target=_blank]").first.get_attribute("href")
    view = page.request.get(me.web_url + str(href))  # through the link the case service made
    assert view.status == 200 and view.headers["content-type"] == "application/pdf" and view.body() == PDF

    page.locator("#documents a", has_text="Remove").first.click()
    me.seen("casework 07 taking a document off the file (en)")
    page.fill("input[name=reason]", "added to the wrong file")
    page.locator("form[method=post] button.govuk-button--warning").click()
    page.wait_for_url("**done=document_removed**")
    assert page.locator("#documents tbody tr").count() == 0
    assert page.request.get(me.web_url + str(href)).status == 404


async def request_element(
    platform: PlatformUnderTest, case_id: str, home: Household, missing: list[dict[str, Any]]
) -> None:
    gw = Gateway(platform.gateway_url, platform.issuer.mint)
    try:
        for element in missing:
            element["person_id"] = home.adult_id
        me = coach(f"demo-coach-{REGION}-3", REGION)
        await hold_interview(gw, me, case_id, home, kind="follow_up", missing_elements=missing)
    finally:
        await gw.aclose()


def test_a_birth_joins_the_household_and_a_member_leaves_it(
    visitors: Callable[..., Visitor], platform_under_test: PlatformUnderTest
) -> None:
    case, home = a_case(platform_under_test, f"demo-coach-{REGION}-1", name="Geboorte")
    page_path = f"/cases/{case['case_id']}/members"
    me = visitors(f"demo-coach-{REGION}-1")
    me.sign_in(page_path)
    me.choose_language("fr")
    assert me.page.locator("form[data-member]").count() == 0  # the only member cannot leave: close instead
    assert "clôturez le dossier" in me.page.locator("#last-member").inner_text()
    me.page.fill("input[name=person_id]", f"{home.adult_id}B")
    me.page.fill("input[name=given_name]", "Nour")
    me.page.fill("input[name=family_name]", "Geboorte")
    me.page.fill("input[name=birth_date]", date.today().isoformat())
    me.seen("casework 08 household changes (fr)")
    submit(me, page_path)
    assert "done=member_added" in me.page.url and "Nour Geboorte" in me.text()

    me.visit(page_path)
    newborn = me.page.locator(f'form[data-member="{home.adult_id}B"]')
    newborn.locator("input[value=deceased]").check()
    newborn.locator("button[type=submit]").click()
    me.page.wait_for_url("**done=member_left**")
    members = me.page.locator("section[aria-labelledby=members-title]").inner_text()
    assert "a quitté le ménage" in members and "Nour Geboorte" in members  # the record stays


def test_tasks_show_most_overdue_first_and_a_bulk_move_confirms_agenda_conflicts(
    visitors: Callable[..., Visitor], platform_under_test: PlatformUnderTest
) -> None:
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    late, home = a_case(platform_under_test, f"demo-coach-{REGION}-2", interview=True)
    off_thread(late_element(platform_under_test, late["case_id"], home, yesterday))
    me = visitors(f"demo-coach-{REGION}-2")
    me.sign_in("/agenda")
    me.choose_language("en")
    task = me.page.locator(f'#tasks tr[data-task="element_overdue"]:has(a[href="/cases/{late["case_id"]}"])')
    assert task.count() == 1 and "overdue since" in task.inner_text()
    me.seen("casework 09 coach to-do list on the agenda (en)")

    at = soon(7200)  # the same moment for two coaches: moving one case onto the other clashes
    moved, _ = a_case(platform_under_test, f"demo-coach-{REGION}-1", at=at)
    theirs, _ = a_case(platform_under_test, f"demo-coach-{REGION}-3", at=at)
    lead = visitors(f"demo-lead-{REGION}")
    lead.sign_in("/team")
    lead.choose_language("en")
    assert lead.page.locator(f'#overdue-by-coach tr[data-coach="demo-coach-{REGION}-2"]').count() == 1
    lead.seen("casework 10 team lead overdue tasks by coach (en)")
    lead.visit("/team/moves")
    lead.page.locator(f'input[name=case_ids][value="{moved["case_id"]}"]').check()
    lead.page.fill("input[name=to_coach]", f"demo-coach-{REGION}-3")
    lead.page.locator("button[name=action][value=reassign]").click()
    lead.page.wait_for_load_state("load")
    conflicts = lead.page.locator("#conflicts").inner_text()
    assert "Nothing moved yet" in conflicts and theirs["case_id"][:8] in lead.text()
    lead.seen("casework 11 bulk move shows the agenda conflicts (en)")
    lead.page.locator("#confirm-move").click()
    lead.page.wait_for_load_state("load")
    assert moved["case_id"][:8] in lead.page.locator("#moved").inner_text()
    assert "None." in lead.page.locator("#failed").inner_text()
    lead.seen("casework 12 bulk move report (en)")

    lead.visit("/team/moves")  # the household moved to Liège: its case goes to that region's office
    lead.page.locator(f'input[name=case_ids][value="{late["case_id"]}"]').check()
    lead.page.select_option("select[name=to_region]", "liege")
    lead.page.select_option("select[name=to_office]", "liege")
    lead.page.fill("input[name=reason]", "the household moved to Liège")
    lead.page.locator("button[name=action][value=transfer]").click()
    lead.page.wait_for_load_state("load")
    assert late["case_id"][:8] in lead.page.locator("#moved").inner_text() and "to liege" in lead.text()
    lead.choose_language("de")
    lead.visit("/team/moves")
    lead.seen("casework 13 move cases (de)")


async def late_element(platform: PlatformUnderTest, case_id: str, home: Household, due_on: str) -> None:
    gw = Gateway(platform.gateway_url, platform.issuer.mint)
    try:
        element = {"person_id": home.adult_id, "element": "proof_of_address", "due_on": due_on}
        me = coach(f"demo-coach-{REGION}-2", REGION)
        await hold_interview(gw, me, case_id, home, kind="follow_up", missing_elements=[element])
    finally:
        await gw.aclose()
