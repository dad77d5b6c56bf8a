"""Every page of every role, with demo content: a screenshot of each (in French, Dutch and English,
and at a phone's width) and axe-core on each — no serious or critical WCAG 2.1 AA violation."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from icam_platform.demo import seed
from icam_platform.journeys import fast_platform_settings
from icam_testing.browser import Visitor, off_thread
from icam_testing.platform_under_test import PlatformUnderTest

pytestmark = pytest.mark.e2e
COACH = "demo-coach-brussels-1"


@pytest.fixture(scope="module")
def demo(platform_under_test: PlatformUnderTest) -> Any:
    """A small `icam up --demo` batch: households in every region, driven through A, B and C."""
    env = fast_platform_settings(platform_under_test.home / "reference.json")
    return off_thread(
        seed(platform_under_test.gateway_url, platform_under_test.issuer.mint, env=env, households=12)
    )


def first_link(visitor: Visitor, pattern: str) -> str | None:
    found = re.findall(pattern, visitor.page.content())
    return found[0] if found else None


def tour(visitor: Visitor, paths: list[str], label: str) -> None:
    for path in paths:
        response = visitor.visit(path)
        assert response.status == 200, f"{path}: {response.status}"
        visitor.seen(f"{label} {re.sub(r'[0-9a-f-]{36}', 'id', path)}")  # stable names: one file per page


def test_every_coach_page_in_french_dutch_and_english(demo: Any, visitors: Callable[..., Visitor]) -> None:
    coach = visitors(COACH)
    coach.sign_in("/cases?scope=region&status=closed")  # a case that went the whole way, if any
    case = first_link(coach, r'href="/cases/([0-9a-f-]{36})[?"]')
    if not case:
        coach.visit("/cases?scope=region")
        case = first_link(coach, r'href="/cases/([0-9a-f-]{36})[?"]')
    assert case, "the demo gave the Brussels caseload no case"
    coach.visit(f"/cases/{case}")
    message = first_link(coach, rf'href="(/cases/{case}/messages/[0-9a-f-]{{36}})"')
    change = first_link(coach, r'href="(/invitations/[0-9a-f-]{36}/reschedule\?case=[^"]+)"')
    pages = [
        "/agenda",
        "/cases",
        f"/cases/{case}",
        f"/cases/{case}/interview",
        f"/cases/{case}/outcome",
        f"/cases/{case}/status",
        f"/cases/{case}/vulnerability",
        f"/cases/{case}/invite",
        "/invitations/new",
        "/desk",
        *([message] if message else []),
        *([change, change.replace("reschedule", "cancel")] if change else []),
    ]
    tour(coach, pages, "coach fr")
    for language in ("nl", "en"):
        coach.choose_language(language)
        tour(coach, ["/agenda", "/cases", f"/cases/{case}", f"/cases/{case}/interview"], f"coach {language}")
    coach.choose_language("fr")


def test_every_page_of_the_other_roles(demo: Any, visitors: Callable[..., Visitor]) -> None:
    lead = visitors("demo-lead-brussels")
    lead.sign_in("/team")
    case = first_link(lead, r'href="/cases/([0-9a-f-]{36})[?"]')
    tour(
        lead, ["/team", "/team/agendas", "/cases", *([f"/cases/{case}/assign"] if case else [])], "team lead"
    )

    partner = visitors("demo-partner-fedasil")
    partner.sign_in("/partner")
    referral = first_link(partner, r'href="(/partner/referrals/[0-9a-f-]{36})"')
    tour(partner, ["/partner", *([referral] if referral else [])], "partner")

    ops = visitors("demo-ops")
    ops.sign_in("/ops")
    tour(ops, ["/ops"], "ops fr")
    for language in ("nl", "en"):
        ops.choose_language(language)
        tour(ops, ["/ops"], f"ops {language}")

    auditor = visitors("demo-auditor")
    auditor.sign_in("/audit")
    tour(auditor, ["/audit", f"/audit?subject={COACH}"], "auditor")
    auditor.page.locator('form[action="/sign-out"] button').click()
    auditor.seen("signed out")
    auditor.page.goto(auditor.web_url + "/sign-in")
    auditor.seen("provider sign-in page")


def test_the_coach_pages_at_a_phone_width(demo: Any, visitors: Callable[..., Visitor]) -> None:
    phone = visitors(COACH, width=390, height=844)
    phone.sign_in("/cases?scope=region")
    case = first_link(phone, r'href="/cases/([0-9a-f-]{36})[?"]')
    tour(
        phone,
        ["/agenda", "/cases", *([f"/cases/{case}", f"/cases/{case}/interview"] if case else [])],
        "phone",
    )
    assert phone.page.evaluate("() => document.documentElement.scrollWidth") <= 400  # no sideways page scroll
