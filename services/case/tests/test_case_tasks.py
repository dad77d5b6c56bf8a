"""A case's tasks follow from its own facts: given events, then the tasks it has (and when they fall
due); the fact that settles a task makes it disappear."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from case_builders import ADULT, CHILD, COACH, DECIDER, NOW, T0, given, interview, opened, outcome

from icam_case.domain import count_no_show, decide_outcome, receive_element, record_interview, suspend
from icam_case.domain.commands import MissingElement
from icam_case.domain.tasks import BRUSSELS, TaskKind, TaskPolicy, open_tasks, start_of_day_after
from icam_contracts.enums import DossierElementKind, Outcome, SuspensionReason
from icam_contracts.events.case import ReferralProgressNoted, ReferralStatus

pytestmark = pytest.mark.unit

POLICY = TaskPolicy()


def kinds(case, answered=()) -> list[str]:  # type: ignore[no-untyped-def]
    return [t.kind.value for t in open_tasks(case, set(answered), POLICY)]


def test_a_new_case_has_its_interview_due_and_its_invitation_to_chase() -> None:
    case = given(opened())

    tasks = {t.kind: t for t in open_tasks(case, set(), POLICY)}

    assert tasks[TaskKind.INTERVIEW_DUE].due_at == T0 + timedelta(days=7)
    assert tasks[TaskKind.INVITATION_UNANSWERED].due_at == T0 + timedelta(days=3)


def test_an_answer_settles_the_chase_and_the_interview_settles_the_rest() -> None:
    case = given(opened())
    invitation = case.invitations[-1]
    held = record_interview(case, interview(), coach_id=COACH, now=NOW)

    assert kinds(case, answered=[invitation]) == ["interview_due"]
    assert kinds(given(opened(), held)) == []


def test_a_no_show_is_followed_up_until_the_next_invitation() -> None:
    case = given(opened())
    missed = count_no_show(case, case.invitations[-1], T0 + timedelta(days=7), threshold=3)

    assert kinds(given(opened(), missed)) == ["no_show_follow_up"]


def test_an_element_not_received_by_its_date_falls_due_the_day_after() -> None:
    element = MissingElement(
        uuid.uuid4(), CHILD, DossierElementKind.BIRTH_CERTIFICATE, due_on=date(2026, 4, 1)
    )
    held = record_interview(given(opened()), interview(missing_elements=(element,)), coach_id=COACH, now=NOW)
    case = given(opened(), held)
    [task] = [t for t in open_tasks(case, set(), POLICY) if t.kind is TaskKind.ELEMENT_OVERDUE]

    received = given(opened(), held, receive_element(case, element.element_id))

    assert task.due_at == start_of_day_after(date(2026, 4, 1)) and task.due_at.tzinfo == BRUSSELS
    assert "element_overdue" not in kinds(received)


def test_outcome_a_without_a_stay_application_is_chased_after_the_configured_delay() -> None:
    held = record_interview(given(opened()), interview(), coach_id=COACH, now=NOW)
    decided = decide_outcome(given(opened(), held), outcome(Outcome.LEGAL_STAY_POSSIBLE), decider=DECIDER)
    case = given(opened(), held, decided)
    [task] = open_tasks(case, set(), POLICY)

    started = decide_outcome(
        given(opened(), held),
        outcome(Outcome.LEGAL_STAY_POSSIBLE, stay_procedure_started=True),
        decider=DECIDER,
    )

    assert task.kind is TaskKind.STAY_APPLICATION_MISSING
    assert task.due_at == case.current_decision.decided_at + POLICY.stay_application_within  # type: ignore[union-attr]
    assert "stay_application_missing" not in kinds(given(opened(), held, started))


def test_a_suspension_is_reviewed_on_its_date_or_after_the_default_delay() -> None:
    held = record_interview(given(opened()), interview(), coach_id=COACH, now=NOW)
    base = given(opened(), held)
    with_date = suspend(base, SuspensionReason.PUBLIC_ORDER, decider=DECIDER, review_on=date(2026, 9, 1))
    without = suspend(base, SuspensionReason.PUBLIC_ORDER, decider=DECIDER)

    [dated] = open_tasks(given(opened(), held, with_date), set(), POLICY)
    [default] = open_tasks(given(opened(), held, without), set(), POLICY)

    assert dated.kind is TaskKind.SUSPENSION_REVIEW and dated.due_at.date() == date(2026, 9, 1)
    assert default.due_at == T0 + timedelta(days=2) + POLICY.review_suspension_after


def test_a_referral_overdue_at_the_partner_is_a_task_until_the_partner_answers() -> None:
    base = given(opened())
    note = ReferralProgressNoted(
        household_id=base.household_id,
        case_id=base.case_id,
        referral_id=uuid.uuid4(),
        status=ReferralStatus.OVERDUE,
    )
    answered = note.model_copy(update={"status": ReferralStatus.ACKNOWLEDGED})

    assert "referral_overdue" in kinds(given(opened(), [note]))
    assert "referral_overdue" not in kinds(given(opened(), [note], [answered]))


def test_an_outcome_awaiting_approval_is_the_team_leads_task() -> None:
    held = record_interview(given(opened()), interview(), coach_id=COACH, now=NOW)
    proposed = decide_outcome(
        given(opened(), held),
        outcome(Outcome.RETURN_REFUSED),
        decider=DECIDER,
        needs_approval={Outcome.RETURN_REFUSED},
    )

    [task] = open_tasks(given(opened(), held, proposed), set(), POLICY)

    assert task.kind is TaskKind.APPROVAL_PENDING and task.for_team_lead


def test_a_closed_case_has_nothing_left_to_do() -> None:
    held = record_interview(given(opened()), interview(), coach_id=COACH, now=NOW)
    closed = decide_outcome(given(opened(), held), outcome(Outcome.RETURN_REFUSED), decider=DECIDER)

    assert kinds(given(opened(), held, closed)) == [] and ADULT
