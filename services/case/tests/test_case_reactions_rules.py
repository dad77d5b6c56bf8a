"""How the case takes in facts from other services: given events, when a fact, then events."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from case_builders import CASE, COACH, DECIDER, NOW, T0, given, interview, opened, outcome

from icam_case.domain import (
    CaseStatus,
    attach_invitation,
    close,
    complete_return,
    count_no_show,
    decide_outcome,
    flag_contact_problem,
    note_referral,
    record_interview,
    withdraw_referral,
)
from icam_contracts.enums import Channel, ClosureReason, InterviewKind, Outcome
from icam_contracts.events.case import (
    CaseOpened,
    ContactLost,
    ContactProblemFlagged,
    InvitationAttached,
    NoShowCounted,
    OutcomeReopened,
    ReferralProgressNoted,
    ReferralStatus,
)
from icam_contracts.events.decisions import TrajectoryClosed

pytestmark = pytest.mark.unit

APPOINTMENT = T0 + timedelta(days=14)


def test_a_case_opens_with_its_entry_channel_members_and_first_appointment():
    events = opened()
    assert isinstance(events[0], CaseOpened)
    assert events[0].entry_channel == "invitation_letter" and (events[0].adults, events[0].minors) == (1, 1)
    assert isinstance(events[1], InvitationAttached)
    case = given(events)
    assert case.case_id == CASE and case.next_appointment_at is not None and len(case.members) == 2


def test_a_later_invitation_attaches_to_the_open_case_once():
    invitation = uuid.uuid4()
    [attached] = attach_invitation(given(opened()), invitation, APPOINTMENT, attempt=2)
    assert isinstance(attached, InvitationAttached)
    assert attach_invitation(given(opened(), [attached]), invitation, APPOINTMENT, attempt=2) == []


def test_no_shows_are_counted_and_the_configured_number_in_a_row_marks_contact_lost():
    case = given(opened())
    first = count_no_show(case, uuid.uuid4(), APPOINTMENT, threshold=2)
    assert [type(e) for e in first] == [NoShowCounted]
    second = count_no_show(given(opened(), first), uuid.uuid4(), APPOINTMENT, threshold=2)
    assert [type(e) for e in second] == [NoShowCounted, ContactLost]
    lost = given(opened(), first, second)
    assert lost.status is CaseStatus.CONTACT_LOST and "contact_lost" in lost.flags


def test_the_no_show_threshold_is_configurable():
    assert [type(e) for e in count_no_show(given(opened()), uuid.uuid4(), APPOINTMENT, threshold=1)] == [
        NoShowCounted,
        ContactLost,
    ]


def test_an_interview_held_resets_the_no_shows_and_restores_contact():
    first = count_no_show(given(opened()), uuid.uuid4(), APPOINTMENT, threshold=1)
    lost = given(opened(), first)
    held = record_interview(lost, interview(), coach_id=COACH, now=NOW)
    after = given(opened(), first, held)
    assert after.status is CaseStatus.OPEN and after.consecutive_no_shows == 0


def test_a_no_show_on_a_closed_case_changes_nothing():
    closed = given(opened(), close(given(opened()), ClosureReason.LOST_CONTACT, None, decider=DECIDER))
    assert count_no_show(closed, uuid.uuid4(), APPOINTMENT, threshold=2) == []


def test_referral_news_is_noted_on_the_case():
    referral = uuid.uuid4()
    [noted] = note_referral(
        given(opened()), ReferralStatus.ACKNOWLEDGED, referral_id=referral, partner="fedasil"
    )
    assert isinstance(noted, ReferralProgressNoted)
    case = given(opened(), [noted])
    assert (case.referral_status, case.referral_id) == ("acknowledged", referral)


def test_a_voluntary_return_closes_the_trajectory_as_departed():
    held = record_interview(given(opened()), interview(), coach_id=COACH, now=NOW)
    decision = decide_outcome(given(opened(), held), outcome(Outcome.RETURN_ACCEPTED), decider=DECIDER)
    events = complete_return(given(opened(), held, decision), uuid.uuid4(), "iom", decider=DECIDER)
    closed = events[-1]
    assert isinstance(closed, TrajectoryClosed)
    assert (closed.reason, closed.final_outcome) == ("departed_voluntarily", "return_accepted")
    assert (
        complete_return(given(opened(), held, decision, events), uuid.uuid4(), "iom", decider=DECIDER) == []
    )


def test_a_withdrawn_referral_reopens_the_outcome_question_until_a_revision():
    held = record_interview(given(opened()), interview(), coach_id=COACH, now=NOW)
    decision = decide_outcome(given(opened(), held), outcome(Outcome.RETURN_ACCEPTED), decider=DECIDER)
    withdrawn = withdraw_referral(
        given(opened(), held, decision), uuid.uuid4(), "fedasil", "person_changed_mind"
    )
    assert [type(e) for e in withdrawn] == [ReferralProgressNoted, OutcomeReopened]
    case = given(opened(), held, decision, withdrawn)
    assert case.outcome_reopened and "outcome_reopened" in case.flags
    follow_up = record_interview(case, interview(InterviewKind.FOLLOW_UP), coach_id=COACH, now=NOW)
    revised = decide_outcome(
        given(opened(), held, decision, withdrawn, follow_up),
        outcome(
            Outcome.RETURN_REFUSED,
            revises_decision_id=decision[0].decision_id,
            revision_reason="changed their mind",
        ),
        decider=DECIDER,
    )
    assert not given(opened(), held, decision, withdrawn, follow_up, revised).outcome_reopened


def test_a_referral_not_made_tells_the_case_why():
    [noted] = note_referral(given(opened()), ReferralStatus.NOT_MADE, referral_id=None, reason="no_consent")
    assert isinstance(noted, ReferralProgressNoted) and noted.reason == "no_consent"


def test_a_failed_notification_flags_a_contact_problem():
    [flag] = flag_contact_problem(given(opened()), uuid.uuid4(), Channel.EMAIL, "mailbox unavailable")
    assert isinstance(flag, ContactProblemFlagged)
    assert "contact_problem" in given(opened(), [flag]).flags
