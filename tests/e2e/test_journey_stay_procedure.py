"""Journey 1: invitation → interview → outcome A (legal stay possible) → suspended for a stay procedure."""

from __future__ import annotations

import pytest

from icam_platform.journeys import (
    Gateway,
    coach,
    decide_outcome,
    hold_interview,
    household,
    open_case_of,
    send_invitation,
    soon,
)
from icam_testing.platform_under_test import PlatformUnderTest
from icam_testing.published import journey

pytestmark = pytest.mark.e2e


async def test_an_invited_person_who_can_apply_for_a_stay_is_suspended_once_the_procedure_starts(
    gateway: Gateway, platform_under_test: PlatformUnderTest
) -> None:
    me = coach("coach-e2e-a", "brussels")
    home = household(language="fr")

    sent = await send_invitation(gateway, me, home, at=soon(30))
    case = await open_case_of(gateway, me, home)
    interview = await hold_interview(gateway, me, case["case_id"], home)
    decided = await decide_outcome(
        gateway,
        me,
        case["case_id"],
        "legal_stay_possible",
        procedure_explained=True,
        stay_procedure_started=True,
    )

    assert decided["events"] == ["OutcomeDecided", "TrajectorySuspended"]
    state = await gateway.get(me, f"/api/cases/{case['case_id']}", min_position=decided["position"])
    assert state["status"] == "suspended"
    events = await journey(
        platform_under_test.kafka_bootstrap,
        platform_under_test.topic_prefix,
        home.household_id,
        {
            "InvitationSent": sent["stream_id"],
            "InterviewHeld": interview["case_id"],
            "OutcomeDecided": decided["case_id"],
            "TrajectorySuspended": decided["case_id"],
        },
    )
    assert events["InvitationSent"].envelope.correlation_id == sent["correlation_id"]
    assert events["TrajectorySuspended"].data["reason"] == "stay_procedure_started"
