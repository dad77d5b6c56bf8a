"""What a coach or team lead asks of a case, and the events it yields — or the rule it breaks.

Each function takes the folded case and a command and returns the new events; nothing here reads
a clock, a database or an id generator: times and ids come in with the command.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from uuid import UUID

from icam_case.domain.commands import Decider, RecordInterview
from icam_case.domain.errors import (
    CaseClosed,
    CaseRuleViolation,
    CaseStateConflict,
    CaseSuspended,
    UnknownElement,
    UnknownMember,
)
from icam_case.domain.state import Case, CaseStatus, Member
from icam_contracts.enums import (
    ClosureReason,
    InterviewKind,
    Outcome,
    SuspensionReason,
    VulnerabilityCategory,
)
from icam_contracts.events.case import (
    Attendee,
    CaseEvent,
    CaseTransferred,
    CoachAssigned,
    DossierElementReceived,
    DossierElementRequested,
    InterviewHeld,
    VulnerabilityFlagged,
)
from icam_contracts.events.decisions import (
    TrajectoryClosed,
    TrajectoryResumed,
    TrajectorySuspended,
)
from icam_contracts.personal_data import PersonalData


def ensure_active(case: Case, doing: str) -> None:
    """Interviews and outcomes need a trajectory that is neither closed nor suspended (409)."""
    if case.status is CaseStatus.CLOSED:
        raise CaseClosed(f"case is closed: cannot {doing}", status=case.status, version=case.version)
    if case.status is CaseStatus.SUSPENDED:
        raise CaseSuspended(
            f"case is suspended ({case.suspension_reason}): cannot {doing}; resume it first",
            status=case.status,
            version=case.version,
        )


def ensure_not_closed(case: Case, doing: str) -> None:
    if case.status is CaseStatus.CLOSED:
        raise CaseClosed(f"case is closed: cannot {doing}", status=case.status, version=case.version)


def record_interview(case: Case, cmd: RecordInterview, *, coach_id: str, now: datetime) -> list[CaseEvent]:
    """InterviewHeld with the next sequence number, and a request for every element found missing."""
    ensure_active(case, "record an interview")
    assert case.case_id is not None and case.household_id is not None
    _check_interview(case, cmd, now)
    attendees = tuple(
        Attendee(person_id=p, member_role=member_of(case, p, "attendees").role) for p in cmd.attendees
    )
    held = InterviewHeld(
        household_id=case.household_id,
        case_id=case.case_id,
        interview_id=cmd.interview_id,
        invitation_id=cmd.invitation_id or _pending_invitation(case),
        kind=cmd.kind,
        coach_id=coach_id,
        office=cmd.office or case.office,
        language=cmd.language,
        attendees=attendees,
        duration_minutes=cmd.duration_minutes,
        interpreter_present=cmd.interpreter_present,
        interpreter_language=cmd.interpreter_language,
        sequence_number=case.interviews_held + 1,
        topics=cmd.topics,
        notes=cmd.notes,
    )
    requests = [
        DossierElementRequested(
            household_id=case.household_id,
            case_id=case.case_id,
            element_id=m.element_id,
            person_id=member_of(case, m.person_id, "missing_elements").person_id,
            element=m.element,
            description=m.description,
            due_on=m.due_on,
        )
        for m in cmd.missing_elements
    ]
    return [held, *requests]


def _pending_invitation(case: Case) -> UUID | None:
    """The invitation the household came on, when an appointment was pending: the invitation
    service learns from it that the invitation was honoured."""
    return case.invitations[-1] if case.next_appointment_at is not None and case.invitations else None


def _check_interview(case: Case, cmd: RecordInterview, now: datetime) -> None:
    if cmd.held_at > now:
        raise CaseRuleViolation("an interview cannot be recorded before it happened", field="occurred_at")
    # to the second: the workspace's form gives times to the second, and an interview recorded in
    # the second the case opened (its first contact, a walk-in's own meeting) is not before it
    if case.opened_at is not None and cmd.held_at < case.opened_at.replace(microsecond=0):
        raise CaseRuleViolation(
            "an interview cannot precede the first contact of the case", field="occurred_at"
        )
    if case.interviews_held == 0 and cmd.kind is not InterviewKind.INTAKE:
        raise CaseRuleViolation("the first interview of a case is the intake", field="kind")
    if case.interviews_held > 0 and cmd.kind is InterviewKind.INTAKE:
        raise CaseRuleViolation("the intake was held already: this is a follow-up", field="kind")
    if cmd.interpreter_language and not cmd.interpreter_present:
        raise CaseRuleViolation("an interpreter language needs an interpreter", field="interpreter_language")
    if not cmd.attendees:
        raise CaseRuleViolation("at least one household member attends an interview", field="attendees")


def member_of(case: Case, person_id: str, field: str) -> Member:
    member = case.member(person_id)
    if member is None:
        raise UnknownMember(f"{person_id!r} is not a member of this household", field=field)
    return member


def suspension(
    case: Case, reason: SuspensionReason, decider: Decider, review_on: date | None = None
) -> TrajectorySuspended:
    assert case.case_id is not None and case.household_id is not None
    return TrajectorySuspended(
        household_id=case.household_id,
        case_id=case.case_id,
        reason=reason,
        provenance=decider.provenance(),
        review_on=review_on,
    )


def closure(
    case: Case, reason: ClosureReason, text: str | None, decider: Decider, outcome: Outcome | None
) -> TrajectoryClosed:
    assert case.case_id is not None and case.household_id is not None
    return TrajectoryClosed(
        household_id=case.household_id,
        case_id=case.case_id,
        reason=reason,
        reason_text=text,
        final_outcome=outcome,
        provenance=decider.provenance(),
    )


def suspend(
    case: Case,
    reason: SuspensionReason,
    *,
    decider: Decider,
    review_on: date | None = None,
    today: date | None = None,
) -> list[CaseEvent]:
    """Put the trajectory on hold: a stay procedure started, or public-order facts; `review_on`
    is when the coach looks at it again (it must lie ahead)."""
    ensure_active(case, "suspend it")
    if review_on is not None and today is not None and review_on <= today:
        raise CaseRuleViolation("a review date lies in the future", field="review_on")
    return [suspension(case, reason, decider, review_on)]


def resume(case: Case, *, note: str | None, decider: Decider) -> list[CaseEvent]:
    """Continue a suspended trajectory."""
    ensure_not_closed(case, "resume it")
    if case.status is not CaseStatus.SUSPENDED:
        raise CaseStateConflict(
            "only a suspended case can be resumed", status=case.status, version=case.version
        )
    assert case.case_id is not None and case.household_id is not None
    return [
        TrajectoryResumed(
            household_id=case.household_id, case_id=case.case_id, provenance=decider.provenance(), note=note
        )
    ]


def close(case: Case, reason: ClosureReason, text: str | None, *, decider: Decider) -> list[CaseEvent]:
    """End the trajectory; `other` says why in words."""
    ensure_not_closed(case, "close it again")
    if reason is ClosureReason.OTHER and not (text or "").strip():
        raise CaseRuleViolation("closure reason 'other' needs a text", field="reason_text")
    current = case.current_decision
    return [closure(case, reason, text, decider, current.outcome if current else None)]


def assign_coach(case: Case, coach_id: str, *, assigned_by: str) -> list[CaseEvent]:
    """Make `coach_id` responsible for the case (a team lead's reassignment)."""
    ensure_not_closed(case, "reassign it")
    if case.coach_id == coach_id:
        raise CaseStateConflict(f"{coach_id} is already the coach", status=case.status, version=case.version)
    assert case.case_id is not None and case.household_id is not None
    return [
        CoachAssigned(
            household_id=case.household_id,
            case_id=case.case_id,
            coach_id=coach_id,
            previous_coach_id=case.coach_id,
            assigned_by=assigned_by,
        )
    ]


def transfer(
    case: Case, to_region: str, to_office: str, reason: str | None, *, offices_of_region: Collection[str]
) -> list[CaseEvent]:
    """Move the case to another region's office; the coach is unassigned until the new region assigns one."""
    ensure_not_closed(case, "transfer it")
    if not offices_of_region:
        raise CaseRuleViolation(f"unknown region {to_region!r}", field="to_region")
    if to_office not in offices_of_region:
        raise CaseRuleViolation(f"office {to_office!r} is not in region {to_region!r}", field="to_office")
    if to_region == case.region and to_office == case.office:
        raise CaseRuleViolation("the case is already there", field="to_office")
    assert case.case_id is not None and case.household_id is not None
    return [
        CaseTransferred(
            household_id=case.household_id,
            case_id=case.case_id,
            from_region=case.region,
            to_region=to_region,
            from_office=case.office,
            to_office=to_office,
            reason=reason,
        )
    ]


def flag_vulnerability(
    case: Case, person_id: str, categories: tuple[VulnerabilityCategory, ...], details: str | None
) -> list[CaseEvent]:
    """Record that a member needs special attention (categories, and need-to-know details)."""
    ensure_not_closed(case, "flag a vulnerability")
    member = member_of(case, person_id, "person_id")
    if not categories:
        raise CaseRuleViolation("name at least one category", field="categories")
    assert case.case_id is not None and case.household_id is not None
    person = PersonalData(person_id=member.person_id, vulnerabilities=categories)
    return [
        VulnerabilityFlagged(
            household_id=case.household_id, case_id=case.case_id, person=person, details=details
        )
    ]


def receive_element(case: Case, element_id: UUID) -> list[CaseEvent]:
    """A requested element of the file came in."""
    ensure_not_closed(case, "receive a dossier element")
    element = case.element(element_id)
    if element is None:
        raise UnknownElement(str(element_id))
    if element.received_at is not None:
        raise CaseStateConflict(
            "this element was received already",
            status=case.status,
            version=case.version,
            element_id=str(element_id),
        )
    assert case.case_id is not None and case.household_id is not None
    return [
        DossierElementReceived(
            household_id=case.household_id,
            case_id=case.case_id,
            element_id=element_id,
            person_id=element.person_id,
            element=element.kind,
        )
    ]
