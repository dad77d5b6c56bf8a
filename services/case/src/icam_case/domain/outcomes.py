"""Deciding the outcome of a trajectory (A, B or C), and the four-eyes gate before one takes effect.

An outcome in the configured set (by default C: return refused, which closes the trajectory) is
first proposed; a team lead other than its proposer approves it — then it is decided, with both
provenances — or sends it back with a reason. Pure: times and ids come in with the command.
"""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from icam_case.domain.commands import DecideOutcome, Decider
from icam_case.domain.decide import closure, ensure_active, ensure_not_closed, suspension
from icam_case.domain.errors import (
    ApprovalPending,
    CaseRuleViolation,
    CaseStateConflict,
    FourEyesRequired,
    NoSuchProposal,
    OutcomeBeforeInterview,
    RevisionRequired,
)
from icam_case.domain.state import Case, CaseStatus
from icam_contracts.enums import ClosureReason, Outcome, SuspensionReason
from icam_contracts.events.case import CaseEvent
from icam_contracts.events.decisions import (
    OutcomeApproved,
    OutcomeDecided,
    OutcomeProposalRejected,
    OutcomeProposed,
)


def decide_outcome(
    case: Case, cmd: DecideOutcome, *, decider: Decider, needs_approval: Collection[Outcome] = ()
) -> list[CaseEvent]:
    """OutcomeDecided after at least one interview; A may suspend, C closes the trajectory.

    An outcome in `needs_approval` (by default C) is only proposed: a team lead other than the
    decider approves it (`approve_outcome`) before it takes effect."""
    _check_may_decide(case, cmd)
    assert case.case_id is not None and case.household_id is not None
    content = _content(case, cmd, decider)
    if cmd.outcome in needs_approval:
        return [OutcomeProposed(**content)]
    return _take_effect(case, OutcomeDecided(**content), decider, cmd.stay_procedure_started)


def _check_may_decide(case: Case, cmd: DecideOutcome) -> None:
    ensure_active(case, "decide an outcome")
    if case.pending is not None:
        raise ApprovalPending(
            "an outcome awaits a team lead's approval: approve or reject it first",
            pending_decision_id=str(case.pending.decision_id),
            status=case.status,
            version=case.version,
        )
    if case.status is CaseStatus.CONTACT_LOST:
        raise CaseStateConflict(
            "contact with the household is lost: hold an interview first",
            status=case.status,
            version=case.version,
        )
    if case.interviews_held == 0:
        raise OutcomeBeforeInterview(
            "an outcome is decided only after at least one interview",
            status=case.status,
            version=case.version,
        )
    _check_revision(case, cmd)
    _check_outcome(cmd)


def _content(case: Case, cmd: DecideOutcome, decider: Decider) -> dict[str, object]:
    """What the outcome says, the same in its proposal and in its decision."""
    return {
        "household_id": case.household_id,
        "case_id": case.case_id,
        "decision_id": cmd.decision_id,
        "outcome": cmd.outcome,
        "provenance": decider.provenance(),
        "communicated_in": cmd.communicated_in,
        "consent_to_referral": cmd.consent_to_referral if cmd.outcome is Outcome.RETURN_ACCEPTED else None,
        "preferred_partner": cmd.preferred_partner if cmd.consent_to_referral else None,
        "revises_decision_id": cmd.revises_decision_id,
        "revision_reason": cmd.revision_reason,
        "rationale": cmd.rationale,
        "communicated": cmd.communicated,
        "procedure_explained": cmd.procedure_explained,
        "consequences_explained": cmd.consequences_explained,
        "interview_id": cmd.interview_id,
    }


def _take_effect(
    case: Case, decided: OutcomeDecided, decider: Decider, stay_procedure_started: bool = False
) -> list[CaseEvent]:
    """The decision and what it brings with it: A may suspend, C closes the trajectory."""
    events: list[CaseEvent] = [decided]
    if decided.outcome is Outcome.LEGAL_STAY_POSSIBLE and stay_procedure_started:
        events.append(suspension(case, SuspensionReason.STAY_PROCEDURE_STARTED, decider))
    if decided.outcome is Outcome.RETURN_REFUSED:
        events.append(
            closure(case, ClosureReason.RETURN_REFUSED, decided.communicated, decider, Outcome.RETURN_REFUSED)
        )
    return events


def approve_outcome(case: Case, decision_id: UUID, *, approver: Decider) -> list[CaseEvent]:
    """The team lead approves the proposal: it is decided now, with both provenances; the
    approver may not be the one who proposed it (four eyes)."""
    proposal = _pending(case, decision_id)
    if approver.subject == proposal.provenance.decided_by:
        raise FourEyesRequired(
            "an outcome is approved by another person than the one who proposed it", field="decision_id"
        )
    assert case.case_id is not None and case.household_id is not None
    approval = approver.provenance()
    approved = OutcomeApproved(
        household_id=case.household_id, case_id=case.case_id, decision_id=decision_id, approval=approval
    )
    decided = OutcomeDecided(**{**proposal.model_dump(), "approval": approval})
    return [approved, *_take_effect(case, decided, approver)]


def reject_proposal(case: Case, decision_id: UUID, reason: str, *, approver: Decider) -> list[CaseEvent]:
    """The team lead sends the proposal back, saying why; the case awaits another decision."""
    _pending(case, decision_id)
    if not reason.strip():
        raise CaseRuleViolation("say why the proposal goes back", field="reason")
    assert case.case_id is not None and case.household_id is not None
    return [
        OutcomeProposalRejected(
            household_id=case.household_id,
            case_id=case.case_id,
            decision_id=decision_id,
            reason=reason,
            approval=approver.provenance(),
        )
    ]


def _pending(case: Case, decision_id: UUID) -> OutcomeProposed:
    ensure_not_closed(case, "approve an outcome")
    if case.pending is None or case.pending.decision_id != decision_id:
        raise NoSuchProposal(
            "no outcome with this id awaits approval",
            field="decision_id",
            status=case.status,
            version=case.version,
        )
    return case.pending


def _check_revision(case: Case, cmd: DecideOutcome) -> None:
    current = case.current_decision
    if current is None and cmd.revises_decision_id is not None:
        raise CaseRuleViolation("there is no earlier decision to revise", field="revises_decision_id")
    if current is not None and cmd.revises_decision_id is None:
        raise RevisionRequired(
            "an outcome was decided already: a new one must revise it, with a reason",
            current_decision_id=str(current.decision_id),
            status=case.status,
            version=case.version,
        )
    if current is not None and cmd.revises_decision_id != current.decision_id:
        raise RevisionRequired(
            "a revision must name the current decision",
            current_decision_id=str(current.decision_id),
            status=case.status,
            version=case.version,
        )
    if cmd.revises_decision_id is not None and not (cmd.revision_reason or "").strip():
        raise CaseRuleViolation("a revision says why", field="revision_reason")


def _check_outcome(cmd: DecideOutcome) -> None:
    if not cmd.rationale.strip():
        raise CaseRuleViolation("an outcome needs a rationale", field="rationale")
    if not cmd.communicated.strip():
        raise CaseRuleViolation("say what was communicated to the person", field="communicated")
    if cmd.outcome is Outcome.LEGAL_STAY_POSSIBLE and cmd.procedure_explained is not True:
        raise CaseRuleViolation(
            "outcome A: the stay procedure must have been explained", field="procedure_explained"
        )
    if cmd.outcome is Outcome.RETURN_ACCEPTED and cmd.consent_to_referral is None:
        raise CaseRuleViolation(
            "outcome B: record whether the person consents to a referral", field="consent_to_referral"
        )
    if cmd.outcome is Outcome.RETURN_REFUSED and cmd.consequences_explained is not True:
        raise CaseRuleViolation(
            "outcome C: the consequences must be stated as explained", field="consequences_explained"
        )
    if cmd.stay_procedure_started and cmd.outcome is not Outcome.LEGAL_STAY_POSSIBLE:
        raise CaseRuleViolation("only outcome A starts a stay procedure", field="stay_procedure_started")
