"""Journey 2: invitation → no-show → re-invitation → interviews → outcome B with consent → referral →
partner acknowledges → departure → trajectory closed as departed; the person is told by e-mail in
their own language (Dutch here), and the partner by e-mail."""

from __future__ import annotations

from email.message import Message

import pytest

from icam_auth import Principal, Role
from icam_platform.journeys import (
    Gateway,
    acknowledge,
    coach,
    decide_outcome,
    eventually,
    hold_interview,
    household,
    open_case_of,
    partner,
    record_departure,
    referral_in_inbox,
    send_invitation,
    soon,
    wait_for_no_show,
    wait_for_status,
)
from icam_testing.platform_under_test import PlatformUnderTest
from icam_testing.published import journey

pytestmark = pytest.mark.e2e


def mails_to(platform: PlatformUnderTest, address: str) -> list[Message]:
    return [m for m in platform.mailbox.snapshot() if address in str(m["To"])]


def text_of(message: Message) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    return "\n".join(
        p.get_payload(decode=True).decode(p.get_content_charset() or "utf-8")
        for p in parts
        if p.get_content_type() == "text/plain"
    )


async def test_a_household_that_missed_its_first_interview_returns_voluntarily_with_fedasil(
    gateway: Gateway, platform_under_test: PlatformUnderTest
) -> None:
    me = coach("coach-e2e-b", "antwerp_limburg")
    fedasil = partner("fedasil-e2e", "fedasil")
    home = household(language="nl", postal_code="2000", municipality="Antwerpen", minors=1)
    email = home.members[0]["contact"]["email"]

    first = await send_invitation(gateway, me, home, at=soon(2))
    case = await open_case_of(gateway, me, home)
    await wait_for_no_show(gateway, me, first["stream_id"])
    second = await send_invitation(
        gateway, me, home, at=soon(60), attempt=2, previous_invitation_id=first["stream_id"]
    )
    assert (await open_case_of(gateway, me, home))["case_id"] == case["case_id"]  # attached, not reopened

    await hold_interview(
        gateway, me, case["case_id"], home, kind="intake", language="nl", invitation_id=second["stream_id"]
    )
    await hold_interview(gateway, me, case["case_id"], home, kind="follow_up", language="nl")
    decided = await decide_outcome(
        gateway,
        me,
        case["case_id"],
        "return_accepted",
        language="nl",
        consent_to_referral=True,
        preferred_partner="fedasil",
    )

    referral = await referral_in_inbox(gateway, fedasil, case["case_id"])
    await acknowledge(gateway, fedasil, str(referral["referral_id"]))
    await record_departure(gateway, fedasil, str(referral["referral_id"]))
    await wait_for_status(gateway, me, case["case_id"], "closed")

    events = await journey(
        platform_under_test.kafka_bootstrap,
        platform_under_test.topic_prefix,
        home.household_id,
        {
            "InvitationNoShowRecorded": first["stream_id"],
            "InterviewHeld": case["case_id"],
            "OutcomeDecided": decided["case_id"],
            "ReferredToReturnPartner": str(referral["referral_id"]),
            "ReferralAcknowledged": str(referral["referral_id"]),
            "VoluntaryReturnCompleted": str(referral["referral_id"]),
            "TrajectoryClosed": case["case_id"],
        },
    )
    assert events["TrajectoryClosed"].data["reason"] == "departed_voluntarily"
    assert events["ReferredToReturnPartner"].data["partner"] == "fedasil"

    async def dutch_letters() -> list[Message] | None:
        mails = mails_to(platform_under_test, email)
        return mails if len(mails) >= 3 else None  # two invitations and the outcome letter at least

    mails = await eventually(dutch_letters, timeout=30, what=f"e-mails to {email}")
    assert all(m["Content-Language"] in (None, "nl") for m in mails)
    bodies = "\n".join(text_of(m) for m in mails)
    assert "Italiëlei" in bodies or "Antwerpen" in bodies
    assert "uitgenodigd" in bodies.lower()  # the invitations, in Dutch
    assert "terugkeer" in bodies.lower()  # the outcome letter on voluntary return, in Dutch

    # the programme's figures counted it: every section of the KPI view answered, the region's
    # outcome and closure, the partner's departure
    kpis = await gateway.get(Principal("ops-e2e", Role.OPS_VIEWER), "/api/views/kpis")
    assert kpis["unavailable"] == []
    region = [r for r in kpis["outcomes"]["items"] if r["region"] == "antwerp_limburg"]
    assert sum(r["outcomes"].get("return_accepted", 0) for r in region) >= 1
    assert sum(r["closures"].get("departed_voluntarily", 0) for r in region) >= 1
    assert kpis["invitation_funnel"] and kpis["referral_pipeline"] and kpis["notification_delivery"]
