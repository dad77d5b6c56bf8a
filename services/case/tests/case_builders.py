"""Builders for given/when/then tests of the Case aggregate: realistic events with few arguments."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

from icam_case.domain import Case, DecideOutcome, Decider, RecordInterview, fold, open_case
from icam_contracts.enums import ActorRole, EntryChannel, InterviewKind, Language, Outcome
from icam_contracts.events.case import CaseEvent
from icam_contracts.personal_data import PersonalData

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUSEHOLD = UUID("5b0c3f0e-8a51-4c1f-9a59-3f0f0c3b2a10")
CASE = UUID("9a4b6c2d-1e3f-4a5b-8c7d-0e1f2a3b4c5d")
ADULT = "8123456"
CHILD = "8123457"
COACH = "coach-4711"
DECIDER = Decider(COACH, ActorRole.COACH, "Law of 15 December 1980, art. 74/2", "icam-guidelines-2024.2")
NOW = T0 + timedelta(days=30)


def members() -> tuple[PersonalData, ...]:
    return (
        PersonalData(person_id=ADULT, given_name="Amina", is_minor=False),
        PersonalData(person_id=CHILD, given_name="Yasmine", is_minor=True),
    )


def opened() -> list[CaseEvent]:
    """The events of a case opened on an invitation letter, coach assigned, interview planned."""
    return open_case(
        case_id=CASE,
        household_id=HOUSEHOLD,
        region="brussels",
        office="brussels",
        coach_id=COACH,
        entry_channel=EntryChannel.INVITATION_LETTER,
        origin_id=uuid.uuid4(),
        language=Language.FR,
        members=members(),
        appointment_at=T0 + timedelta(days=7),
    )


def given(*batches: list[CaseEvent]) -> Case:
    """The case after the batches of events, one day apart."""
    timed = [(e, T0 + timedelta(days=i)) for i, batch in enumerate(batches) for e in batch]
    return fold(timed)


def interview(kind: InterviewKind = InterviewKind.INTAKE, **changes: object) -> RecordInterview:
    values: dict[str, object] = {
        "interview_id": uuid.uuid4(),
        "held_at": T0 + timedelta(days=7),
        "kind": kind,
        "language": Language.FR,
        "attendees": (ADULT,),
        "interpreter_present": False,
    }
    values.update(changes)
    return RecordInterview(**values)  # type: ignore[arg-type]


def outcome(which: Outcome, **changes: object) -> DecideOutcome:
    values: dict[str, object] = {
        "decision_id": uuid.uuid4(),
        "outcome": which,
        "rationale": "file reviewed over two interviews",
        "communicated": "the options were explained",
        "communicated_in": Language.FR,
    }
    if which is Outcome.LEGAL_STAY_POSSIBLE:
        values["procedure_explained"] = True
    if which is Outcome.RETURN_ACCEPTED:
        values["consent_to_referral"] = True
    if which is Outcome.RETURN_REFUSED:
        values["consequences_explained"] = True
    values.update(changes)
    return DecideOutcome(**values)  # type: ignore[arg-type]
