"""The Case aggregate's rules: given events, when a command, then events or the rule it breaks."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from case_builders import ADULT, CHILD, COACH, DECIDER, NOW, T0, given, interview, opened, outcome

from icam_case.domain import (
    CaseStatus,
    MissingElement,
    assign_coach,
    close,
    decide_outcome,
    flag_vulnerability,
    fold,
    receive_element,
    record_interview,
    resume,
    suspend,
    transfer,
)
from icam_case.domain.errors import (
    CaseClosed,
    CaseRuleViolation,
    CaseStateConflict,
    CaseSuspended,
    OutcomeBeforeInterview,
    RevisionRequired,
    UnknownElement,
    UnknownMember,
)
from icam_contracts.enums import (
    ClosureReason,
    DossierElementKind,
    InterviewKind,
    Outcome,
    SuspensionReason,
    VulnerabilityCategory,
)
from icam_contracts.events.case import (
    CaseTransferred,
    CoachAssigned,
    DossierElementReceived,
    DossierElementRequested,
    InterviewHeld,
    VulnerabilityFlagged,
)
from icam_contracts.events.decisions import (
    OutcomeDecided,
    TrajectoryClosed,
    TrajectoryResumed,
    TrajectorySuspended,
)

pytestmark = pytest.mark.unit


def interviewed() -> list:
    """Events of an intake interview held on the case of `opened()`."""
    return record_interview(given(opened()), interview(), coach_id=COACH, now=NOW)


def decided(which: Outcome = Outcome.RETURN_ACCEPTED) -> list:
    return decide_outcome(given(opened(), interviewed()), outcome(which), decider=DECIDER)


# interviews -------------------------------------------------------------------------------------


def test_an_interview_is_recorded_with_the_next_sequence_number_and_its_attendees_roles():
    case = given(opened())
    events = record_interview(
        case, interview(attendees=(ADULT, CHILD), topics=("family",)), coach_id=COACH, now=NOW
    )
    held = events[0]
    assert isinstance(held, InterviewHeld)
    assert held.sequence_number == 1
    assert [a.member_role for a in held.attendees] == ["adult", "minor"]
    assert held.topics == ("family",)
    second = record_interview(
        given(opened(), events), interview(InterviewKind.FOLLOW_UP), coach_id=COACH, now=NOW
    )[0]
    assert isinstance(second, InterviewHeld)
    assert second.sequence_number == 2


def test_an_interview_names_the_pending_invitation_the_household_came_on():
    case = given(opened())
    held = record_interview(case, interview(), coach_id=COACH, now=NOW)[0]
    assert isinstance(held, InterviewHeld) and held.invitation_id == case.invitations[-1]
    second = record_interview(
        given(opened(), [held]), interview(InterviewKind.FOLLOW_UP), coach_id=COACH, now=NOW
    )[0]
    assert isinstance(second, InterviewHeld) and second.invitation_id is None


def test_elements_found_missing_in_an_interview_are_requested():
    missing = MissingElement(uuid.uuid4(), CHILD, DossierElementKind.BIRTH_CERTIFICATE, "copy")
    events = record_interview(
        given(opened()), interview(missing_elements=(missing,)), coach_id=COACH, now=NOW
    )
    requested = events[1]
    assert isinstance(requested, DossierElementRequested)
    assert (requested.element_id, requested.person_id) == (missing.element_id, CHILD)


def test_an_interview_cannot_be_recorded_before_it_happened():
    with pytest.raises(CaseRuleViolation) as refused:
        record_interview(
            given(opened()), interview(held_at=NOW + timedelta(hours=1)), coach_id=COACH, now=NOW
        )
    assert refused.value.field == "occurred_at"


def test_an_interview_cannot_precede_the_first_contact():
    with pytest.raises(CaseRuleViolation) as refused:
        record_interview(given(opened()), interview(held_at=T0 - timedelta(days=1)), coach_id=COACH, now=NOW)
    assert refused.value.field == "occurred_at"


def test_an_interview_given_to_the_second_the_case_opened_is_not_before_its_first_contact():
    opened_at = T0 + timedelta(milliseconds=700)
    case = fold([(e, opened_at) for e in opened()])
    events = record_interview(case, interview(held_at=T0), coach_id=COACH, now=NOW)
    assert events
    with pytest.raises(CaseRuleViolation):
        record_interview(case, interview(held_at=T0 - timedelta(seconds=1)), coach_id=COACH, now=NOW)


def test_the_first_interview_is_the_intake_and_later_ones_are_follow_ups():
    with pytest.raises(CaseRuleViolation, match="intake"):
        record_interview(given(opened()), interview(InterviewKind.FOLLOW_UP), coach_id=COACH, now=NOW)
    with pytest.raises(CaseRuleViolation, match="follow-up"):
        record_interview(given(opened(), interviewed()), interview(), coach_id=COACH, now=NOW)


def test_an_attendee_must_be_a_member_of_the_household():
    with pytest.raises(UnknownMember) as refused:
        record_interview(given(opened()), interview(attendees=("stranger",)), coach_id=COACH, now=NOW)
    assert refused.value.field == "attendees"


def test_an_interpreter_language_needs_an_interpreter():
    with pytest.raises(CaseRuleViolation):
        record_interview(given(opened()), interview(interpreter_language="ar"), coach_id=COACH, now=NOW)


def test_no_interview_on_a_suspended_case_and_the_conflict_names_its_state():
    case = given(opened(), suspend(given(opened()), SuspensionReason.PUBLIC_ORDER, decider=DECIDER))
    with pytest.raises(CaseSuspended) as refused:
        record_interview(case, interview(), coach_id=COACH, now=NOW)
    assert refused.value.status == 409
    assert refused.value.details["case_status"] == "suspended"


def test_no_interview_on_a_closed_case():
    case = given(opened(), close(given(opened()), ClosureReason.LOST_CONTACT, None, decider=DECIDER))
    with pytest.raises(CaseClosed):
        record_interview(case, interview(), coach_id=COACH, now=NOW)


# outcomes ---------------------------------------------------------------------------------------


def test_an_outcome_cannot_be_decided_before_an_interview():
    with pytest.raises(OutcomeBeforeInterview):
        decide_outcome(given(opened()), outcome(Outcome.RETURN_ACCEPTED), decider=DECIDER)


def test_an_outcome_records_rationale_what_was_communicated_and_its_provenance():
    [event] = decided(Outcome.RETURN_ACCEPTED)
    assert isinstance(event, OutcomeDecided)
    assert event.rationale and event.communicated and event.communicated_in == "fr"
    assert event.provenance.decided_by == COACH and event.provenance.policy_version
    assert event.consent_to_referral is True


def test_outcome_a_needs_the_procedure_explained():
    case = given(opened(), interviewed())
    with pytest.raises(CaseRuleViolation) as refused:
        decide_outcome(case, outcome(Outcome.LEGAL_STAY_POSSIBLE, procedure_explained=False), decider=DECIDER)
    assert refused.value.field == "procedure_explained"


def test_outcome_a_with_a_stay_procedure_started_suspends_the_trajectory_which_can_resume():
    case = given(opened(), interviewed())
    events = decide_outcome(
        case, outcome(Outcome.LEGAL_STAY_POSSIBLE, stay_procedure_started=True), decider=DECIDER
    )
    assert isinstance(events[1], TrajectorySuspended) and events[1].reason == "stay_procedure_started"
    suspended = given(opened(), interviewed(), events)
    assert suspended.status is CaseStatus.SUSPENDED
    [resumed] = resume(suspended, note="procedure rejected", decider=DECIDER)
    assert isinstance(resumed, TrajectoryResumed)
    assert given(opened(), interviewed(), events, [resumed]).status is CaseStatus.OPEN


def test_outcome_b_must_record_whether_the_person_consents_to_a_referral():
    case = given(opened(), interviewed())
    with pytest.raises(CaseRuleViolation) as refused:
        decide_outcome(case, outcome(Outcome.RETURN_ACCEPTED, consent_to_referral=None), decider=DECIDER)
    assert refused.value.field == "consent_to_referral"


def test_without_consent_no_partner_is_named_for_a_referral():
    case = given(opened(), interviewed())
    cmd = outcome(Outcome.RETURN_ACCEPTED, consent_to_referral=False, preferred_partner="fedasil")
    [event] = decide_outcome(case, cmd, decider=DECIDER)
    assert isinstance(event, OutcomeDecided)
    assert event.consent_to_referral is False and event.preferred_partner is None


def test_outcome_c_needs_the_consequences_stated_as_explained_and_closes_the_trajectory():
    case = given(opened(), interviewed())
    with pytest.raises(CaseRuleViolation) as refused:
        decide_outcome(case, outcome(Outcome.RETURN_REFUSED, consequences_explained=None), decider=DECIDER)
    assert refused.value.field == "consequences_explained"
    events = decide_outcome(case, outcome(Outcome.RETURN_REFUSED), decider=DECIDER)
    closed = events[1]
    assert isinstance(closed, TrajectoryClosed)
    assert (closed.reason, closed.final_outcome) == ("return_refused", "return_refused")


def test_an_outcome_needs_a_rationale_and_what_was_communicated():
    case = given(opened(), interviewed())
    with pytest.raises(CaseRuleViolation, match="rationale"):
        decide_outcome(case, outcome(Outcome.RETURN_ACCEPTED, rationale=" "), decider=DECIDER)
    with pytest.raises(CaseRuleViolation, match="communicated"):
        decide_outcome(case, outcome(Outcome.RETURN_ACCEPTED, communicated=""), decider=DECIDER)


def test_deciding_again_requires_an_explicit_revision_of_the_current_decision_with_a_reason():
    first = decided()
    case = given(opened(), interviewed(), first)
    with pytest.raises(RevisionRequired) as refused:
        decide_outcome(case, outcome(Outcome.LEGAL_STAY_POSSIBLE), decider=DECIDER)
    assert refused.value.details["current_decision_id"] == str(first[0].decision_id)
    with pytest.raises(RevisionRequired):
        decide_outcome(
            case, outcome(Outcome.LEGAL_STAY_POSSIBLE, revises_decision_id=uuid.uuid4()), decider=DECIDER
        )
    with pytest.raises(CaseRuleViolation, match="why"):
        wrong = outcome(Outcome.LEGAL_STAY_POSSIBLE, revises_decision_id=first[0].decision_id)
        decide_outcome(case, wrong, decider=DECIDER)


def test_a_revision_keeps_both_decisions_in_history():
    first = decided()
    case = given(opened(), interviewed(), first)
    cmd = outcome(
        Outcome.LEGAL_STAY_POSSIBLE, revises_decision_id=first[0].decision_id, revision_reason="new proof"
    )
    revision = decide_outcome(case, cmd, decider=DECIDER)
    after = given(opened(), interviewed(), first, revision)
    assert [d.outcome for d in after.decisions] == ["return_accepted", "legal_stay_possible"]
    assert (
        after.current_decision is not None
        and after.current_decision.revises_decision_id == first[0].decision_id
    )


def test_there_is_no_earlier_decision_to_revise_on_a_first_decision():
    case = given(opened(), interviewed())
    with pytest.raises(CaseRuleViolation) as refused:
        cmd = outcome(Outcome.RETURN_ACCEPTED, revises_decision_id=uuid.uuid4(), revision_reason="x")
        decide_outcome(case, cmd, decider=DECIDER)
    assert refused.value.field == "revises_decision_id"


def test_no_outcome_on_a_closed_or_suspended_case():
    suspended = given(
        opened(), interviewed(), suspend(given(opened()), SuspensionReason.PUBLIC_ORDER, decider=DECIDER)
    )
    with pytest.raises(CaseSuspended):
        decide_outcome(suspended, outcome(Outcome.RETURN_ACCEPTED), decider=DECIDER)
    closed = given(opened(), interviewed(), decided(Outcome.RETURN_REFUSED))
    with pytest.raises(CaseClosed):
        decide_outcome(closed, outcome(Outcome.RETURN_ACCEPTED), decider=DECIDER)


# suspension, closure, assignment, transfer, file, vulnerabilities -----------------------------------


def test_only_a_suspended_case_can_be_resumed():
    with pytest.raises(CaseStateConflict):
        resume(given(opened()), note=None, decider=DECIDER)


def test_a_suspended_case_cannot_be_suspended_again():
    case = given(opened(), suspend(given(opened()), SuspensionReason.PUBLIC_ORDER, decider=DECIDER))
    with pytest.raises(CaseSuspended):
        suspend(case, SuspensionReason.STAY_PROCEDURE_STARTED, decider=DECIDER)


def test_closing_for_another_reason_needs_a_text_and_a_closed_case_stays_closed():
    with pytest.raises(CaseRuleViolation) as refused:
        close(given(opened()), ClosureReason.OTHER, None, decider=DECIDER)
    assert refused.value.field == "reason_text"
    events = close(given(opened()), ClosureReason.OTHER, "household left Belgium", decider=DECIDER)
    case = given(opened(), events)
    assert case.status is CaseStatus.CLOSED and case.closure_reason == "other"
    with pytest.raises(CaseClosed):
        close(case, ClosureReason.LOST_CONTACT, None, decider=DECIDER)


def test_a_suspended_case_can_be_closed():
    case = given(opened(), suspend(given(opened()), SuspensionReason.STAY_PROCEDURE_STARTED, decider=DECIDER))
    [closed] = close(case, ClosureReason.STAY_PROCEDURE_STARTED, None, decider=DECIDER)
    assert isinstance(closed, TrajectoryClosed)


def test_reassignment_names_the_previous_coach_and_refuses_the_same_coach():
    [event] = assign_coach(given(opened()), "coach-2", assigned_by="lead-1")
    assert isinstance(event, CoachAssigned) and event.previous_coach_id == COACH
    with pytest.raises(CaseStateConflict):
        assign_coach(given(opened()), COACH, assigned_by="lead-1")


def test_a_transfer_moves_the_case_and_leaves_it_to_the_new_region_to_assign_a_coach():
    [event] = transfer(given(opened()), "liege", "liege", "moved", offices_of_region={"liege"})
    assert isinstance(event, CaseTransferred)
    case = given(opened(), [event])
    assert (case.region, case.office, case.coach_id) == ("liege", "liege", None)


def test_a_transfer_needs_an_office_of_the_target_region():
    with pytest.raises(CaseRuleViolation) as refused:
        transfer(given(opened()), "liege", "antwerp", None, offices_of_region={"liege"})
    assert refused.value.field == "to_office"
    with pytest.raises(CaseRuleViolation) as unknown:
        transfer(given(opened()), "atlantis", "x", None, offices_of_region=set())
    assert unknown.value.field == "to_region"


def test_a_requested_element_is_received_once():
    element_id = uuid.uuid4()
    missing = MissingElement(element_id, ADULT, DossierElementKind.TRAVEL_DOCUMENT)
    held = record_interview(given(opened()), interview(missing_elements=(missing,)), coach_id=COACH, now=NOW)
    [received] = receive_element(given(opened(), held), element_id)
    assert isinstance(received, DossierElementReceived) and received.person_id == ADULT
    with pytest.raises(CaseStateConflict):
        receive_element(given(opened(), held, [received]), element_id)


def test_an_element_never_requested_is_unknown():
    with pytest.raises(UnknownElement) as refused:
        receive_element(given(opened()), uuid.uuid4())
    assert refused.value.status == 404


def test_a_vulnerability_is_flagged_per_member_with_categories_and_need_to_know_details():
    events = flag_vulnerability(given(opened()), CHILD, (VulnerabilityCategory.SERIOUS_ILLNESS,), "asthma")
    [flag] = events
    assert isinstance(flag, VulnerabilityFlagged) and flag.person.vulnerabilities == ("serious_illness",)
    case = given(opened(), events)
    child = case.member(CHILD)
    assert child is not None and child.vulnerabilities[0].details == "asthma"
    assert "vulnerable" in case.flags


def test_a_vulnerability_needs_a_member_and_a_category():
    with pytest.raises(UnknownMember):
        flag_vulnerability(given(opened()), "nobody", (VulnerabilityCategory.ELDERLY,), None)
    with pytest.raises(CaseRuleViolation):
        flag_vulnerability(given(opened()), ADULT, (), None)


def test_folding_counts_every_event_in_the_version():
    case = given(opened(), interviewed())
    assert case.version == 3 and case.opened_at == T0 and case.interviews_held == 1
