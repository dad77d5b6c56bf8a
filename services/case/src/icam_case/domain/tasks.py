"""What needs doing on a case, derived from the trajectory's own dates — never a checkbox.

`open_tasks(case, answered, policy)` lists the case's tasks, each with the moment it falls due;
a task is overdue once that moment has passed. A task disappears when the fact that settles it
arrives (the interview is recorded, the element comes in, the partner answers), because the list
is derived again from the case after every event. Pure: the clock is the caller's.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo

from icam_case.domain.state import Case, CaseStatus
from icam_contracts.enums import Outcome, SuspensionReason
from icam_contracts.events.case import ReferralStatus

BRUSSELS = ZoneInfo("Europe/Brussels")


class TaskKind(StrEnum):
    """The kinds of things a coach (or a team lead) has to do on a case."""

    INTERVIEW_DUE = "interview_due"
    INVITATION_UNANSWERED = "invitation_unanswered"
    NO_SHOW_FOLLOW_UP = "no_show_follow_up"
    ELEMENT_OVERDUE = "element_overdue"
    REFERRAL_OVERDUE = "referral_overdue"
    STAY_APPLICATION_MISSING = "stay_application_missing"
    SUSPENSION_REVIEW = "suspension_review"
    APPROVAL_PENDING = "approval_pending"


@dataclass(frozen=True)
class Task:
    """One thing to do: what, about which item of the case, by when, and for whom."""

    kind: TaskKind
    due_at: datetime
    ref: str
    for_team_lead: bool = False


@dataclass(frozen=True)
class TaskPolicy:
    """The delays the programme allows (configuration; defaults to confirm with the ATD)."""

    unanswered_after: timedelta = timedelta(days=3)
    stay_application_within: timedelta = timedelta(days=30)
    review_suspension_after: timedelta = timedelta(days=90)


def start_of_day_after(day: date) -> datetime:
    """A date "passed": the first moment of the next day in Brussels."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=BRUSSELS)


def open_tasks(case: Case, answered: Collection[UUID], policy: TaskPolicy) -> list[Task]:
    """Every task the case has now, soonest first; none once it is closed."""
    if not case.exists or case.status is CaseStatus.CLOSED:
        return []
    found = [
        *_appointments(case, answered, policy),
        *_elements(case),
        *_outcome(case, policy),
        *_suspension(case, policy),
    ]
    return sorted(found, key=lambda task: (task.due_at, task.kind))


def _appointments(case: Case, answered: Collection[UUID], policy: TaskPolicy) -> list[Task]:
    tasks = []
    latest = case.invitations[-1] if case.invitations else None
    if case.next_appointment_at is not None and latest is not None:
        tasks.append(Task(TaskKind.INTERVIEW_DUE, case.next_appointment_at, str(latest)))
        if latest not in answered and case.invitation_attached_at is not None:
            chase = min(case.invitation_attached_at + policy.unanswered_after, case.next_appointment_at)
            tasks.append(Task(TaskKind.INVITATION_UNANSWERED, chase, str(latest)))
    if case.last_no_show_at is not None and case.next_appointment_at is None:
        tasks.append(Task(TaskKind.NO_SHOW_FOLLOW_UP, case.last_no_show_at, str(latest or case.case_id)))
    return tasks


def _elements(case: Case) -> list[Task]:
    return [
        Task(TaskKind.ELEMENT_OVERDUE, start_of_day_after(e.due_on), str(e.element_id))
        for e in case.elements
        if e.received_at is None and e.due_on is not None
    ]


def _outcome(case: Case, policy: TaskPolicy) -> list[Task]:
    tasks = []
    if case.pending is not None and case.pending_since is not None:
        tasks.append(Task(TaskKind.APPROVAL_PENDING, case.pending_since, str(case.pending.decision_id), True))
    if case.referral_status is ReferralStatus.OVERDUE and case.referral_noted_at is not None:
        tasks.append(
            Task(TaskKind.REFERRAL_OVERDUE, case.referral_noted_at, str(case.referral_id or case.case_id))
        )
    current = case.current_decision
    stay_started = case.suspension_reason is SuspensionReason.STAY_PROCEDURE_STARTED
    if current is not None and current.outcome is Outcome.LEGAL_STAY_POSSIBLE and not stay_started:
        due = current.decided_at + policy.stay_application_within
        tasks.append(Task(TaskKind.STAY_APPLICATION_MISSING, due, str(current.decision_id)))
    return tasks


def _suspension(case: Case, policy: TaskPolicy) -> list[Task]:
    if case.status is not CaseStatus.SUSPENDED or case.suspended_at is None:
        return []
    if case.suspension_review_on is not None:
        due = datetime.combine(case.suspension_review_on, time(0), tzinfo=BRUSSELS)
    else:
        due = case.suspended_at + policy.review_suspension_after
    return [Task(TaskKind.SUSPENSION_REVIEW, due, str(case.case_id))]
