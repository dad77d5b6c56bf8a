"""The workspace in the browser, as its people use it: a coach invites a household, records two
interviews and decides B with consent; the return partner acknowledges and records the departure;
the coach sees the case closed; the dashboard's counts moved; the auditor finds each read. Then a
Dutch-speaking coach decides C, which only proposes it; the region's team lead approves it (four
eyes), and the coach opens the consequences letter.

Every page seen is screenshotted and checked with axe-core (the `visitors` fixture fails the test on
a serious or critical violation)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from icam_testing.browser import Visitor

pytestmark = pytest.mark.e2e
BRUSSELS = ZoneInfo("Europe/Brussels")


def in_minutes(minutes: int) -> str:
    """A `datetime-local` value a few minutes ahead (the fast test rules accept any hour)."""
    return (datetime.now(UTC) + timedelta(minutes=minutes)).astimezone(BRUSSELS).strftime("%Y-%m-%dT%H:%M")


def until(visitor: Visitor, path: str, found: Callable[[Visitor], bool], timeout: float = 40) -> None:
    """Reload `path` until the platform's asynchronous reactions show (the page also refreshes itself)."""
    deadline = time.monotonic() + timeout
    while True:
        visitor.visit(path)
        if found(visitor):
            return
        assert time.monotonic() < deadline, f"{path} never showed what was expected:\n{visitor.text()[:1500]}"
        time.sleep(1)


def figure(visitor: Visitor, table: str, key: str, column: int) -> int:
    row = visitor.page.locator(f"#{table} tbody tr", has=visitor.page.locator(f'th[data-key="{key}"]'))
    if row.count() == 0:
        return 0
    return int(row.first.locator("td").nth(column).get_attribute("data-value") or 0)


def invite(
    coach: Visitor, *, reference: str, family: str, postal_code: str, municipality: str, language: str
) -> str:
    """Fill the invitation form for a new household; returns the case id once the case opened."""
    page = coach.page
    coach.visit("/invitations/new")
    page.fill("input[name=appointment_at]", in_minutes(5))
    page.fill("input[name=person_id]", reference)
    page.fill("input[name=given_name]", "Sam")
    page.fill("input[name=family_name]", family)
    page.select_option("select[name=preferred_language]", language)
    page.fill("input[name=street]", "Rue de l'Exemple")
    page.fill("input[name=house_number]", "12")
    page.fill("input[name=postal_code]", postal_code)
    page.fill("input[name=municipality]", municipality)
    page.fill("input[name=email]", f"{reference.lower()}@example.org")
    send = page.locator('form[method=post][action="/invitations/new"] button[type=submit]')
    with page.expect_navigation():
        send.first.click()
    if page.locator("#match-new").count():  # other tests' made-up households can look alike
        page.check("#match-new")  # the coach confirms: a household not met before
        send.first.click()
    page.wait_for_url(re.compile(r".*/cases/[0-9a-f-]{36}\?.*"), timeout=40_000)
    return page.url.split("/cases/")[1].split("?")[0]


def record_interview(coach: Visitor, case_id: str, notes: str, missing: str | None = None) -> None:
    page = coach.page
    coach.visit(f"/cases/{case_id}/interview")
    page.fill("textarea[name=notes]", notes)
    page.check('input[name=topics][value="return options"]')
    if missing:
        page.select_option("select[name=element_1]", missing)
    page.locator(f'form[method=post][action="/cases/{case_id}/interview"] button[type=submit]').click()
    page.wait_for_url(re.compile(rf".*/cases/{case_id}\?done=interview.*"))


PASSPORT = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def share_the_passport(coach: Visitor, case_id: str) -> str:
    """The coach adds the passport copy asked for (and a note kept back), then shares the passport
    with the partner once the referral reached the case; returns the shared document's id."""
    page = coach.page
    for kind, content in (("travel_document", PASSPORT), ("medical_certificate", PASSPORT + b" ")):
        coach.visit(f"/cases/{case_id}/documents/new")
        page.set_input_files(
            "input[name=file]", files={"name": "scan.pdf", "mimeType": "application/pdf", "buffer": content}
        )
        page.select_option("select[name=kind]", kind)
        page.locator(
            f'form[method=post][action="/cases/{case_id}/documents/new"] button[type=submit]'
        ).click()
        page.wait_for_url(re.compile(rf".*/cases/{case_id}\?done=document.*"))
    share = page.locator("#documents tr", has_text="Travel document").locator("button[data-share-document]")
    until(coach, f"/cases/{case_id}", lambda v: share.count() == 1)
    document = str(share.get_attribute("data-share-document"))
    share.click()
    page.wait_for_url(re.compile(rf".*/cases/{case_id}\?done=document_shared.*"))
    assert "fedasil" in page.locator(f'#documents tr[data-document="{document}"]').inner_text()
    coach.seen("journey-b 04b coach shared the passport with the partner")
    return document


def test_a_coach_leads_a_household_to_a_voluntary_return_that_the_partner_completes(
    visitors: Callable[..., Visitor],
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    family = f"Voorbeeld{tag}"
    ops = visitors("demo-ops")
    ops.sign_in("/ops")
    invited_before = figure(ops, "funnel_region", "brussels", 0)
    departed_before = figure(ops, "referrals_partner", "fedasil", 2)

    coach = visitors("demo-coach-brussels-1")
    coach.sign_in("/agenda")
    coach.choose_language("en")
    coach.seen("journey-b 01 coach agenda")
    case_id = invite(
        coach,
        reference=f"OE{tag}",
        family=family,
        postal_code="1000",
        municipality="Bruxelles",
        language="fr",
    )
    assert "Invitation sent" in coach.text()
    coach.seen("journey-b 02 coach case file after the invitation")

    record_interview(
        coach, case_id, "Passport copy still missing; return options explained.", "travel_document"
    )
    assert "Interview recorded" in coach.text() and "Travel document" in coach.text()
    record_interview(coach, case_id, "Follow-up: the family wants to go back with support.")
    coach.seen("journey-b 03 coach case file after two interviews")

    page = coach.page
    coach.visit(f"/cases/{case_id}/outcome")
    coach.seen("journey-b 04 coach outcome form")
    page.check('input[name=outcome][value="return_accepted"]')
    page.fill("textarea[name=rationale]", "No ground for a stay application in the file.")
    page.fill("textarea[name=communicated]", "Voluntary return and reintegration support explained.")
    page.check('input[name=consent_to_referral][value="yes"]')
    page.select_option("select[name=preferred_partner]", "fedasil")
    page.locator(f'form[method=post][action="/cases/{case_id}/outcome"] button[type=submit]').click()
    page.wait_for_url(re.compile(rf".*/cases/{case_id}\?done=outcome.*"))
    assert "Outcome recorded" in coach.text()
    document = share_the_passport(coach, case_id)

    partner = visitors("demo-partner-fedasil")
    partner.sign_in("/partner")
    until(partner, "/partner", lambda v: v.page.locator(f'a[data-case="{case_id}"]').count() > 0)
    partner.seen("journey-b 05 partner inbox")
    assert family not in partner.text()  # the inbox carries no personal data
    partner.page.locator(f'a[data-case="{case_id}"]').click()
    referral_id = partner.page.url.rsplit("/", 1)[1]
    assert family in partner.text()  # the referral itself: what the partner needs to organise the return
    shared = partner.page.locator(f'tr[data-document="{document}"] a[target=_blank]')
    assert partner.page.locator("tr[data-document]").count() == 1  # only what the coach shared
    view = partner.page.request.get(partner.web_url + str(shared.get_attribute("href")))
    assert view.status == 200 and view.body() == PASSPORT
    partner.seen("journey-b 06 partner referral")
    partner.page.locator("button[data-shortcut=a]").click()
    partner.page.wait_for_url(re.compile(r".*done=acknowledged.*"))
    partner.page.fill("input[name=destination_country]", "MA")
    partner.page.locator(f'form[method=post][action$="/{referral_id}/departure"] button[type=submit]').click()
    partner.page.wait_for_url(re.compile(r".*done=departure.*"))
    partner.seen("journey-b 07 partner referral departed")

    until(coach, f"/cases/{case_id}", lambda v: "Departed voluntarily" in v.text())
    assert "Closed" in coach.text()
    coach.seen("journey-b 08 coach case file closed")

    ops.visit("/ops")
    assert figure(ops, "funnel_region", "brussels", 0) > invited_before
    assert figure(ops, "referrals_partner", "fedasil", 2) > departed_before
    assert family not in ops.text() and f"OE{tag}" not in ops.text()
    ops.seen("journey-b 09 ops dashboard")

    auditor = visitors("demo-auditor")
    auditor.sign_in("/audit")
    auditor.visit(f"/audit?subject=demo-coach-brussels-1&reference={case_id}")
    assert f"/cases/{case_id}" in auditor.text()
    auditor.visit(f"/audit?subject=demo-partner-fedasil&reference={referral_id}")
    assert f"/referrals/{referral_id}" in auditor.text()
    auditor.seen("journey-b 10 auditor finds the reads")


def test_a_dutch_speaking_coach_decides_c_and_opens_the_consequences_letter(
    visitors: Callable[..., Visitor],
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    coach = visitors("demo-coach-antwerp_limburg-1")
    coach.sign_in("/agenda")
    coach.choose_language("nl")
    assert "Agenda van" in coach.text()
    case_id = invite(
        coach,
        reference=f"OE{tag}",
        family=f"Verzonnen{tag}",
        postal_code="2000",
        municipality="Antwerpen",
        language="nl",
    )
    record_interview(coach, case_id, "Gevolgen van een weigering besproken.")

    page = coach.page
    coach.visit(f"/cases/{case_id}/outcome")
    page.check('input[name=outcome][value="return_refused"]')
    page.fill("textarea[name=rationale]", "Geen verblijf mogelijk; vrijwillige terugkeer geweigerd.")
    page.fill("textarea[name=communicated]", "Gevolgen uitgelegd: gedwongen terugkeer, mogelijk detentie.")
    page.check('input[name=consequences_explained][value="yes"]')
    page.locator(f'form[method=post][action="/cases/{case_id}/outcome"] button[type=submit]').click()
    page.wait_for_url(re.compile(rf".*/cases/{case_id}\?done=proposed.*"))
    assert "Wacht op goedkeuring van de teamleider" in coach.text()  # four eyes: only proposed
    assert (
        "Afgesloten" not in coach.text() and page.locator('a[data-letter="consequences_letter"]').count() == 0
    )
    coach.seen("journey-c 01 coach case file awaiting approval (nl)")

    lead = visitors("demo-lead-antwerp_limburg")  # another person of the local provider
    lead.sign_in("/team/approvals")
    lead.choose_language("nl")
    until(lead, "/team/approvals", lambda v: v.page.locator(f'tr[data-approval="{case_id}"]').count() > 0)
    lead.seen("journey-c 02 team lead approvals (nl)")
    lead.page.locator(f'tr[data-approval="{case_id}"] a[href$="/approval"]').click()
    assert "Geen verblijf mogelijk; vrijwillige terugkeer geweigerd." in lead.text()  # the coach's rationale
    lead.seen("journey-c 03 team lead reviews the proposal (nl)")
    lead.page.locator("#approve").click()
    lead.page.wait_for_url(re.compile(rf".*/cases/{case_id}\?done=approved.*"))
    assert "Uitkomst goedgekeurd" in lead.text() and "Afgesloten" in lead.text()

    letter = 'a[data-letter="consequences_letter"]'
    until(coach, f"/cases/{case_id}", lambda v: v.page.locator(letter).count() > 0)
    assert "Afgesloten" in coach.text()
    coach.seen("journey-c 04 coach case file closed (nl)")
    pdf = page.request.get(coach.web_url + str(page.locator(letter).first.get_attribute("href")))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    page.locator(letter).first.locator("xpath=..").locator("a").first.click()  # the letter's text
    assert "Brief over de gevolgen" in coach.text()
    coach.seen("journey-c 05 consequences letter text (nl)")
