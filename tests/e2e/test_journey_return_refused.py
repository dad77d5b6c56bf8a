"""Journey 3: a walk-in at a desk → interview on the spot → outcome C (return refused) → trajectory
closed, and the consequences letter (forced return, possibly detention) sent in the person's language."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import holidays
import pytest

from icam_platform.journeys import (
    Gateway,
    coach,
    decide_outcome,
    eventually,
    hold_interview,
    household,
    open_case_of,
    register_walk_in,
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
    decided = await decide_outcome(
        gateway, me, case["case_id"], "return_refused", consequences_explained=True
    )

    assert decided["events"] == ["OutcomeDecided", "TrajectoryClosed"]
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
