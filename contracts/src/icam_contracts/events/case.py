"""Events of the case service about coaching a household: opening, coaches, interviews, file."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import AwareDatetime, Field

from icam_contracts.base import Contract, Event, OfficeCode, PartnerCode, RegionCode, SubjectId
from icam_contracts.enums import (
    AppointmentChange,
    Channel,
    DocumentKind,
    DossierElementKind,
    EntryChannel,
    InterviewKind,
    Language,
    MemberChange,
    MemberRole,
)
from icam_contracts.events import _examples as ex
from icam_contracts.personal_data import PERSONAL_TEXT, PersonalData
from icam_contracts.topics import CASE_EVENTS

CaseId = Annotated[UUID, Field(description="The case (ICAM trajectory).", examples=[ex.CASE_ID])]
CoachId = Annotated[SubjectId, Field(description="The coach.")]
PersonId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=50,
        description="Dossier reference of the person concerned.",
        examples=[ex.PERSON_ID],
    ),
]


class ReferralStatus(StrEnum):
    """Where the household's referral to a return partner stands, as the case records it."""

    REFERRED = "referred"
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"
    OVERDUE = "overdue"
    WITHDRAWN = "withdrawn"
    NOT_MADE = "not_made"
    DEPARTED = "departed"


class CaseEvent(Event):
    """An event of the case aggregate, keyed by ``case_id``."""

    topic: ClassVar[str] = CASE_EVENTS
    key_field: ClassVar[str] = "case_id"


class Attendee(Contract):
    """A household member present at an interview (no personal data: the id and role only)."""

    person_id: PersonId
    member_role: MemberRole = Field(description="Adult or minor.", examples=["adult"])


class CaseOpened(CaseEvent):
    """An ICAM trajectory started for a person or household, after their first contact."""

    event_type: ClassVar[str] = "CaseOpened"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    region: RegionCode
    office: OfficeCode
    coach_id: CoachId | None = Field(
        default=None, description="Coach assigned at opening, if any.", examples=["coach-4711"]
    )
    entry_channel: EntryChannel = Field(
        description="How the household came into contact with ICAM.",
        examples=["invitation_letter"],
    )
    origin_id: UUID | None = Field(
        default=None,
        description="The invitation, request or desk visit the case was opened from.",
        examples=[ex.INVITATION_ID],
    )
    language: Language = Field(description="Language of the trajectory.", examples=["fr"])
    members: tuple[PersonalData, ...] = Field(
        min_length=1, description="Personal data of each member.", examples=[ex.MEMBERS]
    )
    adults: int = Field(ge=0, description="Number of adults coached.", examples=[1])
    minors: int = Field(ge=0, description="Number of minors coached.", examples=[1])


class CoachAssigned(CaseEvent):
    """A coach became responsible for the case (first assignment or a change of coach)."""

    event_type: ClassVar[str] = "CoachAssigned"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    coach_id: CoachId
    previous_coach_id: SubjectId | None = Field(
        default=None, description="Coach who was responsible before.", examples=["coach-4242"]
    )
    assigned_by: SubjectId = Field(description="Team lead or coach who assigned.")


class CaseTransferred(CaseEvent):
    """The case moved to another region or office (for example after the household moved)."""

    event_type: ClassVar[str] = "CaseTransferred"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    from_region: RegionCode
    to_region: RegionCode = Field(examples=["antwerp_limburg"])
    from_office: OfficeCode
    to_office: OfficeCode = Field(examples=["antwerp"])
    reason: str | None = Field(
        json_schema_extra=PERSONAL_TEXT,
        default=None,
        description="Why, in a few non-personal words.",
        examples=["moved house"],
    )


class _Interview(CaseEvent):
    """Fields common to every version of InterviewHeld."""

    case_id: CaseId
    interview_id: UUID = Field(description="The interview.", examples=[ex.INTERVIEW_ID])
    invitation_id: UUID | None = Field(
        default=None,
        description="The invitation the household came on; null for walk-ins and ad hoc meetings.",
        examples=[ex.INVITATION_ID],
    )
    kind: InterviewKind = Field(description="Intake or follow-up.", examples=["intake"])
    coach_id: CoachId
    office: OfficeCode
    language: Language = Field(description="Language the interview was held in.", examples=["fr"])
    attendees: tuple[Attendee, ...] = Field(
        min_length=1, description="Household members present.", examples=[ex.ATTENDEES]
    )
    duration_minutes: int | None = Field(default=None, ge=1, description="How long it lasted.", examples=[60])


class InterviewHeldV1(_Interview):
    """A coach held an interview with the household (version 1: interpreter not recorded)."""

    event_type: ClassVar[str] = "InterviewHeld"
    event_version: ClassVar[int] = 1


class InterviewHeld(_Interview):
    """A coach held an interview with the household.

    Version 2 records whether an interpreter was present and for which language, so that what
    the person was told, and how they could understand it, is transparent.
    """

    event_type: ClassVar[str] = "InterviewHeld"
    event_version: ClassVar[int] = 2

    interpreter_present: bool | None = Field(
        default=None,
        description="Whether an interpreter was present; null when unknown (events upcast from v1).",
        examples=[True],
    )
    interpreter_language: str | None = Field(
        default=None,
        pattern=r"^[a-z]{2,3}$",
        description="ISO 639 code of the language interpreted into, when an interpreter was present.",
        examples=["ar"],
    )
    sequence_number: int | None = Field(
        default=None,
        ge=1,
        description="1 for the household's first interview in this case, then 2, 3, ...",
        examples=[1],
    )
    topics: tuple[str, ...] = Field(
        json_schema_extra=PERSONAL_TEXT,
        default=(),
        description="Topics discussed, in a few non-personal words each.",
        examples=[["legal situation", "family composition"]],
    )
    notes: str | None = Field(
        json_schema_extra=PERSONAL_TEXT,
        default=None,
        max_length=4000,
        description="The coach's notes (personal data: need-to-know, never in statistics).",
        examples=["first review of the file; passport copy still missing"],
    )


class DossierElementRequested(CaseEvent):
    """The coach found an element missing from the person's file and asked for it."""

    event_type: ClassVar[str] = "DossierElementRequested"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    element_id: UUID = Field(description="The requested element.", examples=[ex.ELEMENT_ID])
    person_id: PersonId
    element: DossierElementKind = Field(description="Kind of element.", examples=["travel_document"])
    description: str | None = Field(
        json_schema_extra=PERSONAL_TEXT,
        default=None,
        description="What exactly is asked for, in non-personal words.",
        examples=["copy of passport, all pages"],
    )
    due_on: date | None = Field(
        default=None, description="Date by which it is expected.", examples=["2026-04-01"]
    )


class DossierElementReceived(CaseEvent):
    """A requested element of the file was handed in."""

    event_type: ClassVar[str] = "DossierElementReceived"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    element_id: UUID = Field(description="The requested element.", examples=[ex.ELEMENT_ID])
    person_id: PersonId
    element: DossierElementKind = Field(description="Kind of element.", examples=["travel_document"])


class VulnerabilityFlagged(CaseEvent):
    """The coach recorded that a household member needs special attention.

    The categories travel inside the person's ``PersonalData`` (special-category data).
    """

    event_type: ClassVar[str] = "VulnerabilityFlagged"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    person: PersonalData = Field(
        description="The person, with only the vulnerability categories filled in.",
        examples=[{"person_id": ex.PERSON_ID, "vulnerabilities": ["pregnancy"]}],
    )
    details: str | None = Field(
        json_schema_extra=PERSONAL_TEXT,
        default=None,
        max_length=2000,
        description=(
            "What the coach needs to know about it (special-category data: shown only to the "
            "assigned coach and the region's team lead)."
        ),
        examples=["expected delivery in May; follow-up at the hospital"],
    )


class ContactLost(CaseEvent):
    """The household can no longer be reached: missed appointments, letters returned."""

    event_type: ClassVar[str] = "ContactLost"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    last_contact_at: AwareDatetime = Field(
        description="The last time ICAM was in contact.", examples=["2026-02-02T11:30:00+01:00"]
    )
    missed_appointments: int = Field(
        ge=0, description="Appointments missed since the last contact.", examples=[2]
    )


class InvitationAttached(CaseEvent):
    """A further invitation of the household belongs to its open case."""

    event_type: ClassVar[str] = "InvitationAttached"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    invitation_id: UUID = Field(description="The invitation.", examples=[ex.INVITATION_ID])
    appointment_at: AwareDatetime | None = Field(
        default=None, description="When the interview is planned.", examples=[ex.APPOINTMENT_AT]
    )
    attempt: int = Field(default=1, ge=1, description="Which invitation of the household.", examples=[2])


class NoShowCounted(CaseEvent):
    """The household missed an interview; the case counts consecutive no-shows."""

    event_type: ClassVar[str] = "NoShowCounted"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    invitation_id: UUID = Field(description="The invitation not honoured.", examples=[ex.INVITATION_ID])
    appointment_at: AwareDatetime = Field(description="The missed appointment.", examples=[ex.APPOINTMENT_AT])
    consecutive_no_shows: int = Field(
        ge=1, description="No-shows in a row since the last interview held.", examples=[1]
    )


class ContactProblemFlagged(CaseEvent):
    """A message to the household could not be delivered: the coach should check the contact details."""

    event_type: ClassVar[str] = "ContactProblemFlagged"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    notification_id: UUID = Field(description="The failed notification.", examples=[ex.NOTIFICATION_ID])
    channel: Channel = Field(description="Channel that failed.", examples=["email"])
    error: str = Field(
        json_schema_extra=PERSONAL_TEXT,
        min_length=1,
        description="What went wrong, without personal data.",
        examples=["mailbox unavailable"],
    )


class ReferralProgressNoted(CaseEvent):
    """What became of the household's referral to a return partner, as the case knows it."""

    event_type: ClassVar[str] = "ReferralProgressNoted"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    referral_id: UUID | None = Field(
        default=None, description="The referral; null when none was made.", examples=[ex.REFERRAL_ID]
    )
    decision_id: UUID | None = Field(
        default=None, description="The outcome decision it follows, if known.", examples=[ex.DECISION_ID]
    )
    status: ReferralStatus = Field(description="Where the referral stands.", examples=["acknowledged"])
    partner: PartnerCode | None = Field(default=None, description="The return partner.", examples=["fedasil"])
    reason: str | None = Field(
        json_schema_extra=PERSONAL_TEXT,
        default=None,
        description="Why (rejection, withdrawal, no referral), in non-personal words.",
        examples=["no_consent"],
    )


class OutcomeReopened(CaseEvent):
    """The outcome question is open again (e.g. the referral was withdrawn): a revised decision is due."""

    event_type: ClassVar[str] = "OutcomeReopened"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    decision_id: UUID = Field(description="The decision that no longer holds.", examples=[ex.DECISION_ID])
    reason: str = Field(
        json_schema_extra=PERSONAL_TEXT,
        min_length=1,
        description="Why, in non-personal words.",
        examples=["person_changed_mind"],
    )


class HouseholdMemberAdded(CaseEvent):
    """Someone joined the coached household during the trajectory (a birth, a family member
    arriving); their own record starts here."""

    event_type: ClassVar[str] = "HouseholdMemberAdded"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    member: PersonalData = Field(
        description="The new member (personal data, per person).", examples=[ex.MEMBERS[1]]
    )
    change: MemberChange = Field(description="Why.", examples=["birth"])


class HouseholdMemberLeft(CaseEvent):
    """A member is no longer part of the coached household (left, or deceased); their record stays."""

    event_type: ClassVar[str] = "HouseholdMemberLeft"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    person_id: PersonId
    change: MemberChange = Field(description="Why.", examples=["left"])


class AppointmentChanged(CaseEvent):
    """The household's next interview moved to another time, or was cancelled, on the invitation
    service's word; the case's "next interview due" follows it."""

    event_type: ClassVar[str] = "AppointmentChanged"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    invitation_id: UUID = Field(description="The invitation.", examples=[ex.INVITATION_ID])
    change: AppointmentChange = Field(description="Moved or cancelled.", examples=["moved"])
    appointment_at: AwareDatetime | None = Field(
        default=None, description="The new time (when moved).", examples=[ex.APPOINTMENT_AT]
    )


class DocumentAdded(CaseEvent):
    """A document was added to the file (a passport copy, a decision, a medical certificate, a
    signed consent). Its content stays in the case service's document store, never on a topic."""

    event_type: ClassVar[str] = "DocumentAdded"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    document_id: UUID = Field(description="The document.", examples=["a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"])
    kind: DocumentKind = Field(description="What it is.", examples=["travel_document"])
    content_type: str = Field(
        pattern=r"^(application/pdf|image/jpeg|image/png)$",
        description="As read from its bytes.",
        examples=["application/pdf"],
    )
    size_bytes: int = Field(ge=1, description="Its size.", examples=[182044])
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Digest of its content.", examples=["0" * 64])
    person_id: PersonId | None = Field(
        default=None, description="The member it concerns, if one.", examples=[ex.PERSON_ID]
    )
    element_id: UUID | None = Field(
        default=None,
        description="The requested dossier element it satisfies, if any.",
        examples=[ex.ELEMENT_ID],
    )


class DocumentShared(CaseEvent):
    """The coach shared a document of the file with the return partner of the household's referral
    (e.g. the travel document it needs to prepare the return). The partner sees it for as long as
    it holds that referral open; the content never leaves the case service's document store."""

    event_type: ClassVar[str] = "DocumentShared"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    document_id: UUID = Field(description="The document.", examples=["a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"])
    referral_id: UUID = Field(description="The referral it is shared through.", examples=[ex.REFERRAL_ID])
    partner: PartnerCode = Field(description="The return partner it is shared with.", examples=["fedasil"])


class DocumentRemoved(CaseEvent):
    """A document was taken off the file (added by mistake, or superseded); its content is deleted."""

    event_type: ClassVar[str] = "DocumentRemoved"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    document_id: UUID = Field(description="The document.", examples=["a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"])
    reason: str = Field(
        json_schema_extra=PERSONAL_TEXT,
        min_length=1,
        max_length=200,
        description="Why, in non-personal words.",
        examples=["wrong file"],
    )
