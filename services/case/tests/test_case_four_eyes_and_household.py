"""Four eyes on outcome C, and a household that changes: given events, when a command, then
events or the rule it breaks."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from case_builders import ADULT, CASE, CHILD, DECIDER, HOUSEHOLD, NOW, T0, given, interview, opened, outcome

from icam_case.domain import (
    add_member,
    appointment_changed,
    approve_outcome,
    attach_invitation,
    decide_outcome,
    member_left,
    record_interview,
    reject_proposal,
)
from icam_case.domain.commands import Decider
from icam_case.domain.errors import ApprovalPending, CaseRuleViolation, FourEyesRequired, NoSuchProposal
from icam_case.timeline import describe
from icam_contracts.enums import ActorRole, AppointmentChange, MemberChange, Outcome
from icam_contracts.events.case import AppointmentChanged, HouseholdMemberAdded, HouseholdMemberLeft
from icam_contracts.events.decisions import (
    OutcomeApproved,
    OutcomeDecided,
    OutcomeProposalRejected,
    OutcomeProposed,
    TrajectoryClosed,
)
from icam_contracts.personal_data import PersonalData

pytestmark = pytest.mark.unit

GATE = frozenset({Outcome.RETURN_REFUSED})
LEAD = Decider("lead-4001", ActorRole.TEAM_LEAD, DECIDER.legal_basis, DECIDER.policy_version)


def interviewed():  # type: ignore[no-untyped-def]
    case = given(opened())
    return record_interview(case, interview(), coach_id=DECIDER.subject, now=NOW)


def proposed_c():  # type: ignore[no-untyped-def]
    case = given(opened(), interviewed())
    return decide_outcome(case, outcome(Outcome.RETURN_REFUSED), decider=DECIDER, needs_approval=GATE)


def test_an_outcome_behind_the_gate_is_only_proposed() -> None:
    [event] = proposed_c()

    assert isinstance(event, OutcomeProposed)
    assert event.outcome is Outcome.RETURN_REFUSED and event.provenance.decided_by == DECIDER.subject


def test_an_outcome_outside_the_gate_is_decided_at_once() -> None:
    case = given(opened(), interviewed())

    events = decide_outcome(case, outcome(Outcome.RETURN_ACCEPTED), decider=DECIDER, needs_approval=GATE)

    assert [type(e) for e in events] == [OutcomeDecided]


def test_approval_decides_and_closes_with_both_provenances() -> None:
    case = given(opened(), interviewed(), proposed_c())
    decision = case.pending.decision_id  # type: ignore[union-attr]

    approved, decided, closed = approve_outcome(case, decision, approver=LEAD)

    assert isinstance(approved, OutcomeApproved) and approved.approval.decided_by == "lead-4001"
    assert isinstance(decided, OutcomeDecided) and decided.decision_id == decision
    assert decided.provenance.decided_by == DECIDER.subject and decided.approval == approved.approval
    assert isinstance(closed, TrajectoryClosed) and closed.reason == "return_refused"


def test_the_proposer_may_not_approve_their_own_outcome() -> None:
    case = given(opened(), interviewed(), proposed_c())

    with pytest.raises(FourEyesRequired):
        approve_outcome(case, case.pending.decision_id, approver=DECIDER)  # type: ignore[union-attr]


def test_nothing_else_is_decided_while_an_outcome_awaits_approval() -> None:
    case = given(opened(), interviewed(), proposed_c())

    with pytest.raises(ApprovalPending):
        decide_outcome(case, outcome(Outcome.RETURN_ACCEPTED), decider=DECIDER, needs_approval=GATE)


def test_only_the_pending_proposal_can_be_approved_or_sent_back() -> None:
    case = given(opened(), interviewed(), proposed_c())

    with pytest.raises(NoSuchProposal):
        approve_outcome(case, uuid.uuid4(), approver=LEAD)
    with pytest.raises(NoSuchProposal):
        reject_proposal(given(opened(), interviewed()), uuid.uuid4(), "why", approver=LEAD)


def test_a_proposal_sent_back_frees_the_case_for_another_decision() -> None:
    case = given(opened(), interviewed(), proposed_c())
    sent_back = reject_proposal(case, case.pending.decision_id, "explain it again", approver=LEAD)  # type: ignore[union-attr]

    after = given(opened(), interviewed(), proposed_c(), sent_back)

    assert isinstance(sent_back[0], OutcomeProposalRejected) and after.pending is None
    assert decide_outcome(after, outcome(Outcome.RETURN_ACCEPTED), decider=DECIDER, needs_approval=GATE)


def test_a_revision_to_c_goes_through_the_same_gate() -> None:
    case = given(opened(), interviewed())
    first = decide_outcome(case, outcome(Outcome.RETURN_ACCEPTED), decider=DECIDER, needs_approval=GATE)
    revised = given(opened(), interviewed(), first)

    [event] = decide_outcome(
        revised,
        outcome(
            Outcome.RETURN_REFUSED, revises_decision_id=first[0].decision_id, revision_reason="changed mind"
        ),
        decider=DECIDER,
        needs_approval=GATE,
    )

    assert isinstance(event, OutcomeProposed) and event.revises_decision_id == first[0].decision_id


def test_a_birth_adds_a_member_with_a_record_of_their_own() -> None:
    baby = PersonalData(person_id="8123499", is_minor=True)

    [event] = add_member(given(opened()), baby, MemberChange.BIRTH)
    case = given(opened(), [event])

    assert isinstance(event, HouseholdMemberAdded) and case.member("8123499") is not None
    with pytest.raises(CaseRuleViolation):
        add_member(case, baby, MemberChange.BIRTH)


def test_a_member_who_leaves_keeps_their_record_but_the_last_one_cannot_leave() -> None:
    [left] = member_left(given(opened()), CHILD, MemberChange.LEFT)
    case = given(opened(), [left])

    assert isinstance(left, HouseholdMemberLeft) and case.member(CHILD).left  # type: ignore[union-attr]
    assert [m.person_id for m in case.present_members] == [ADULT]
    with pytest.raises(CaseRuleViolation):
        member_left(case, ADULT, MemberChange.LEFT)


def test_a_rescheduled_interview_moves_next_interview_due() -> None:
    invitation = uuid.uuid4()
    case = given(opened(), attach_invitation(given(opened()), invitation, T0 + timedelta(days=3), 2))
    later = T0 + timedelta(days=10)

    [moved] = appointment_changed(case, invitation, AppointmentChange.MOVED, later)
    cancelled = given(
        opened(), attach_invitation(given(opened()), invitation, T0 + timedelta(days=3), 2), [moved]
    )

    assert isinstance(moved, AppointmentChanged) and given(opened(), [moved]).next_appointment_at == later
    assert appointment_changed(case, uuid.uuid4(), AppointmentChange.MOVED, later) == []
    [gone] = appointment_changed(cancelled, invitation, AppointmentChange.CANCELLED, None)
    assert gone.appointment_at is None
    assert (moved.case_id, moved.household_id) == (CASE, HOUSEHOLD)


def test_the_timeline_ends_the_reason_for_sending_back_with_one_full_stop() -> None:
    data = {"approval": {"decided_by": "demo-lead"}}
    assert describe("OutcomeProposalRejected", data | {"reason": "Talk again."}).endswith(": Talk again.")
    assert describe("OutcomeProposalRejected", data | {"reason": "Talk again"}).endswith(": Talk again.")
