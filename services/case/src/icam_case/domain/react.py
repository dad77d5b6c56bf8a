"""What the case does when other services report facts about its household.

Reactions never raise on the case's state: a late or redelivered fact that no longer applies
(a no-show on a closed case, an invitation already attached) yields no events.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from icam_case.domain.commands import Decider
from icam_case.domain.decide import closure
from icam_case.domain.state import Case, CaseStatus
from icam_contracts.enums import AppointmentChange, Channel, ClosureReason, EntryChannel, Language
from icam_contracts.events.case import (
    AppointmentChanged,
    CaseEvent,
    CaseOpened,
    ContactLost,
    ContactProblemFlagged,
    InvitationAttached,
    NoShowCounted,
    OutcomeReopened,
    ReferralProgressNoted,
    ReferralStatus,
)
from icam_contracts.personal_data import PersonalData


def open_case(
    *,
    case_id: UUID,
    household_id: UUID,
    region: str,
    office: str,
    coach_id: str | None,
    entry_channel: EntryChannel,
    origin_id: UUID | None,
    language: Language,
    members: tuple[PersonalData, ...],
    appointment_at: datetime | None = None,
) -> list[CaseEvent]:
    """CaseOpened for a household's first contact; an invitation also becomes the first appointment."""
    minors = sum(1 for m in members if m.is_minor)
    opened = CaseOpened(
        household_id=household_id,
        case_id=case_id,
        region=region,
        office=office,
        coach_id=coach_id,
        entry_channel=entry_channel,
        origin_id=origin_id,
        language=language,
        members=members,
        adults=len(members) - minors,
        minors=minors,
    )
    events: list[CaseEvent] = [opened]
    if appointment_at is not None and origin_id is not None:
        events.append(
            InvitationAttached(
                household_id=household_id,
                case_id=case_id,
                invitation_id=origin_id,
                appointment_at=appointment_at,
            )
        )
    return events


def attach_invitation(
    case: Case, invitation_id: UUID, appointment_at: datetime, attempt: int
) -> list[CaseEvent]:
    """A later invitation of the household joins its open case (once)."""
    if case.status is CaseStatus.CLOSED or invitation_id in case.invitations:
        return []
    assert case.case_id is not None and case.household_id is not None
    return [
        InvitationAttached(
            household_id=case.household_id,
            case_id=case.case_id,
            invitation_id=invitation_id,
            appointment_at=appointment_at,
            attempt=attempt,
        )
    ]


def count_no_show(
    case: Case, invitation_id: UUID, appointment_at: datetime, *, threshold: int
) -> list[CaseEvent]:
    """Count a missed interview; `threshold` in a row means contact is lost, for the coach's attention."""
    if case.status is CaseStatus.CLOSED:
        return []
    assert case.case_id is not None and case.household_id is not None
    missed = case.consecutive_no_shows + 1
    events: list[CaseEvent] = [
        NoShowCounted(
            household_id=case.household_id,
            case_id=case.case_id,
            invitation_id=invitation_id,
            appointment_at=appointment_at,
            consecutive_no_shows=missed,
        )
    ]
    if missed >= threshold and case.status is CaseStatus.OPEN:
        last_contact = case.last_interview_at or case.opened_at or appointment_at
        events.append(
            ContactLost(
                household_id=case.household_id,
                case_id=case.case_id,
                last_contact_at=last_contact,
                missed_appointments=missed,
            )
        )
    return events


def note_referral(
    case: Case,
    status: ReferralStatus,
    *,
    referral_id: UUID | None,
    decision_id: UUID | None = None,
    partner: str | None = None,
    reason: str | None = None,
) -> list[CaseEvent]:
    """Keep the case up to date with its referral; after closure the news no longer matters."""
    if case.status is CaseStatus.CLOSED:
        return []
    assert case.case_id is not None and case.household_id is not None
    return [
        ReferralProgressNoted(
            household_id=case.household_id,
            case_id=case.case_id,
            referral_id=referral_id,
            decision_id=decision_id,
            status=status,
            partner=partner,
            reason=reason,
        )
    ]


def complete_return(case: Case, referral_id: UUID, partner: str, *, decider: Decider) -> list[CaseEvent]:
    """The household departed voluntarily: the trajectory closes as departed."""
    noted = note_referral(case, ReferralStatus.DEPARTED, referral_id=referral_id, partner=partner)
    if not noted:
        return []
    current = case.current_decision
    closed = closure(
        case, ClosureReason.DEPARTED_VOLUNTARILY, None, decider, current.outcome if current else None
    )
    return [*noted, closed]


def withdraw_referral(case: Case, referral_id: UUID, partner: str, reason: str) -> list[CaseEvent]:
    """A withdrawn referral re-opens the outcome question: the coach must revise the decision."""
    noted = note_referral(
        case, ReferralStatus.WITHDRAWN, referral_id=referral_id, partner=partner, reason=reason
    )
    current = case.current_decision
    if not noted or current is None:
        return noted
    assert case.case_id is not None and case.household_id is not None
    reopened = OutcomeReopened(
        household_id=case.household_id, case_id=case.case_id, decision_id=current.decision_id, reason=reason
    )
    return [*noted, reopened]


def flag_contact_problem(case: Case, notification_id: UUID, channel: Channel, error: str) -> list[CaseEvent]:
    """A message to the household failed for good: the coach should check how to reach them."""
    if case.status is CaseStatus.CLOSED:
        return []
    assert case.case_id is not None and case.household_id is not None
    return [
        ContactProblemFlagged(
            household_id=case.household_id,
            case_id=case.case_id,
            notification_id=notification_id,
            channel=channel,
            error=error,
        )
    ]


def appointment_changed(
    case: Case, invitation_id: UUID, change: AppointmentChange, appointment_at: datetime | None
) -> list[CaseEvent]:
    """The household's interview moved or was cancelled: "next interview due" follows it — for the
    invitation the case is waiting on only (an older one's changes no longer matter)."""
    if case.status is CaseStatus.CLOSED or not case.invitations or case.invitations[-1] != invitation_id:
        return []
    if case.next_appointment_at is None and change is AppointmentChange.CANCELLED:
        return []
    assert case.case_id is not None and case.household_id is not None
    return [
        AppointmentChanged(
            household_id=case.household_id,
            case_id=case.case_id,
            invitation_id=invitation_id,
            change=change,
            appointment_at=appointment_at if change is AppointmentChange.MOVED else None,
        )
    ]
