"""Journey 3: a walk-in at a desk → interview on the spot → outcome C (return refused) proposed →
approved by the region's team lead (four eyes) → trajectory closed, and the consequences letter
(forced return, possibly detention) sent in the person's language — only after the approval, once."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import holidays
import pytest

from icam_platform.journeys import (
    Gateway,
    approve_outcome,
    case_status,
    coach,
    decide_outcome,
    eventually,
    hold_interview,
    household,
    open_case_of,
    register_walk_in,
    team_lead,
)
from icam_testing.platform_under_test import PlatformUnderTest
from icam_testing.published import journey

pytestmark = pytest.mark.e2e


async def test_a_walk_in_who_refuses_return_is_told_the_consequences_and_the_trajectory_closes(
    gateway: Gateway, platform_under_test: PlatformUnderTest
) -> None:
    today = datetime.now(ZoneInfo("Europe/Brussels")).date()
    if today in holidays.country_holidays("BE"):
        pytest.skip("walk-in desks are closed on Belgian public holidays")
    me = coach("coach-e2e-c", "liege")
    home = household(language="fr", postal_code="4000", municipality="Liège")
    email = home.members[0]["contact"]["email"]

    visit = await register_walk_in(gateway, me, home, "liege_fragnee")
    case = await open_case_of(gateway, me, home)
    await hold_interview(gateway, me, case["case_id"], home)
    proposed = await decide_outcome(
        gateway, me, case["case_id"], "return_refused", consequences_explained=True
    )
    assert proposed["events"] == ["OutcomeProposed"]  # outcome C waits for a second pair of eyes
    assert await case_status(gateway, me, case["case_id"]) == "open"
    told_before = await gateway.get(me, "/api/notifications", case_id=case["case_id"])
    lead = team_lead("lead-e2e-c", "liege")
    decided = await approve_outcome(gateway, lead, case["case_id"], proposed["id"])

    assert decided["events"] == ["OutcomeApproved", "OutcomeDecided", "TrajectoryClosed"]
    assert not [n for n in told_before["items"] if n["template"] == "consequences_letter"]
    events = await journey(
        platform_under_test.kafka_bootstrap,
        platform_under_test.topic_prefix,
        home.household_id,
        {
            "WalkInRegistered": visit["stream_id"],
            "OutcomeDecided": case["case_id"],
            "TrajectoryClosed": case["case_id"],
        },
    )
    assert events["TrajectoryClosed"].data["reason"] == "return_refused"

    async def consequences_letter() -> str | None:
        for message in platform_under_test.mailbox.snapshot():
            body = message.get_payload(decode=True) if not message.is_multipart() else b""
            text = body.decode("utf-8", "replace") if body else message.as_string()
            if email in str(message["To"]) and "détention" in text:
                return text
        return None

    letter = await eventually(consequences_letter, timeout=30, what="consequences letter by e-mail")
    assert "retour forcé" in letter.lower() or "éloignement" in letter.lower()
    told = await gateway.get(me, "/api/notifications", case_id=case["case_id"])
    letters = [n for n in told["items"] if n["template"] == "consequences_letter"]
    assert len({n["channel"] for n in letters}) == len(letters)  # once per channel
