"""Events of the invitation service: invitations, requests for an appointment, walk-in visits."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import AwareDatetime, Field

from icam_contracts.base import DeskCode, Event, OfficeCode, RegionCode, SubjectId
from icam_contracts.enums import (
    AppointmentRequestResolution,
    Channel,
    EntryChannel,
    InvitationResponse,
    Language,
)
from icam_contracts.events import _examples as ex
from icam_contracts.personal_data import PERSONAL_TEXT, PersonalData
from icam_contracts.topics import INVITATION_EVENTS

InvitationId = Annotated[UUID, Field(description="The invitation.", examples=[ex.INVITATION_ID])]
RequestId = Annotated[UUID, Field(description="The request for an appointment.", examples=[ex.REQUEST_ID])]
Members = Annotated[
    tuple[PersonalData, ...],
    Field(
        min_length=1,
        description="Personal data of each household member concerned, one object per person.",
        examples=[ex.MEMBERS],
    ),
]
Adults = Annotated[int, Field(ge=0, description="Number of adults in the household.", examples=[1])]
Minors = Annotated[int, Field(ge=0, description="Number of minors in the household.", examples=[1])]
AddressedIn = Annotated[Language, Field(description="Language the person is addressed in.", examples=["fr"])]
ResponsibleRegion = Annotated[RegionCode, Field(description="ICAM region responsible for the household.")]


class WalkInOutcome(StrEnum):
    """What a walk-in visit led to: an interview there and then, or an invitation for later."""

    INTERVIEW_ON_THE_SPOT = "interview_on_the_spot"
    INVITATION = "invitation"


class _InvitationEvent(Event):
    topic: ClassVar[str] = INVITATION_EVENTS
    key_field: ClassVar[str] = "invitation_id"


class InvitationSent(_InvitationEvent):
    """A coach invited a person or household to an interview at an ICAM office.

    The invitation says when and where, in which language, and was sent on the listed channels.
    A re-invitation after a no-show names the previous invitation.
    """

    event_type: ClassVar[str] = "InvitationSent"
    event_version: ClassVar[int] = 1

    invitation_id: InvitationId
    region: ResponsibleRegion
    office: OfficeCode = Field(description="Office where the interview takes place.")
    coach_id: SubjectId | None = Field(
        default=None,
        description="Coach who will hold the interview, if already known.",
        examples=["coach-4711"],
    )
    entry_channel: EntryChannel = Field(
        description="How the household came into contact with ICAM.",
        examples=["invitation_letter"],
    )
    language: AddressedIn
    appointment_at: AwareDatetime = Field(
        description="Date and time of the interview.", examples=[ex.APPOINTMENT_AT]
    )
    channels: tuple[Channel, ...] = Field(
        min_length=1,
        description="Channels the invitation is sent on.",
        examples=[["postal_letter", "email"]],
    )
    members: Members
    adults: Adults
    minors: Minors
    attempt: int = Field(
        default=1,
        ge=1,
        description="1 for a first invitation, 2 and more for re-invitations.",
        examples=[1],
    )
    previous_invitation_id: UUID | None = Field(
        default=None,
        description="The invitation this one follows up (after a no-show), if any.",
        examples=[ex.PREVIOUS_INVITATION_ID],
    )
    request_id: UUID | None = Field(
        default=None,
        description="The request for an appointment this invitation answers, if any.",
        examples=[ex.REQUEST_ID],
    )


class InvitationRescheduled(_InvitationEvent):
    """The interview of an invitation moved to another time or office."""

    event_type: ClassVar[str] = "InvitationRescheduled"
    event_version: ClassVar[int] = 1

    invitation_id: InvitationId
    previous_appointment_at: AwareDatetime = Field(
        description="The time that no longer holds.", examples=["2026-03-11T10:00:00+01:00"]
    )
    appointment_at: AwareDatetime = Field(description="The new time.", examples=["2026-03-18T14:00:00+01:00"])
    office: OfficeCode = Field(description="Office of the new appointment.")
    requested_by_person: bool = Field(
        description="Whether the person asked for the change (rather than ICAM).", examples=[True]
    )
    reason: str | None = Field(
        json_schema_extra=PERSONAL_TEXT,
        default=None,
        description="Why, in a few non-personal words.",
        examples=["school holiday"],
    )


class InvitationCancelled(_InvitationEvent):
    """ICAM withdrew an invitation; no interview will take place on it."""

    event_type: ClassVar[str] = "InvitationCancelled"
    event_version: ClassVar[int] = 1

    invitation_id: InvitationId
    reason: str = Field(
        json_schema_extra=PERSONAL_TEXT,
        min_length=1,
        description="Why, in a few non-personal words.",
        examples=["household already coached in another region"],
    )


class InvitationReminderDue(_InvitationEvent):
    """The time came to remind the person of an upcoming interview."""

    event_type: ClassVar[str] = "InvitationReminderDue"
    event_version: ClassVar[int] = 1

    invitation_id: InvitationId
    appointment_at: AwareDatetime = Field(
        description="Date and time of the interview.", examples=[ex.APPOINTMENT_AT]
    )
    office: OfficeCode = Field(description="Office of the interview.")
    language: AddressedIn
    channels: tuple[Channel, ...] = Field(
        min_length=1, description="Channels to remind on.", examples=[["sms", "email"]]
    )
    reminder_number: int = Field(ge=1, description="1 for the first reminder.", examples=[1])


class InvitationResponseRecorded(_InvitationEvent):
    """The person confirmed or declined the invitation before the appointment."""

    event_type: ClassVar[str] = "InvitationResponseRecorded"
    event_version: ClassVar[int] = 1

    invitation_id: InvitationId
    response: InvitationResponse = Field(description="The answer.", examples=["confirmed"])
    via: Channel | None = Field(
        default=None, description="Channel the answer came through, if known.", examples=["email"]
    )


class InvitationNoShowRecorded(_InvitationEvent):
    """Nobody came to the interview and the grace period has passed."""

    event_type: ClassVar[str] = "InvitationNoShowRecorded"
    event_version: ClassVar[int] = 1

    invitation_id: InvitationId
    appointment_at: AwareDatetime = Field(description="The missed appointment.", examples=[ex.APPOINTMENT_AT])
    region: ResponsibleRegion
    attempt: int = Field(ge=1, description="Which invitation of the household this was.", examples=[1])


class InvitationHonoured(_InvitationEvent):
    """The household came: an interview was held on this invitation."""

    event_type: ClassVar[str] = "InvitationHonoured"
    event_version: ClassVar[int] = 1

    invitation_id: InvitationId
    case_id: UUID = Field(description="The case the interview belongs to.", examples=[ex.CASE_ID])
    interview_id: UUID = Field(description="The interview held.", examples=[ex.INTERVIEW_ID])


class AppointmentRequested(Event):
    """A person asked the helpline (e-mail or phone) for an appointment with a coach."""

    event_type: ClassVar[str] = "AppointmentRequested"
    event_version: ClassVar[int] = 1
    topic: ClassVar[str] = INVITATION_EVENTS
    key_field: ClassVar[str] = "request_id"

    request_id: RequestId
    entry_channel: EntryChannel = Field(
        description="Helpline channel of the request.", examples=["helpline_email"]
    )
    language: AddressedIn
    region: RegionCode | None = Field(
        default=None, description="Region of residence, if known.", examples=["brussels"]
    )
    members: Members
    subject: str | None = Field(
        json_schema_extra=PERSONAL_TEXT,
        default=None,
        description="What the person asks about, in a few non-personal words.",
        examples=["wants to talk about voluntary return"],
    )


class AppointmentRequestClosed(Event):
    """A request for an appointment was dealt with."""

    event_type: ClassVar[str] = "AppointmentRequestClosed"
    event_version: ClassVar[int] = 1
    topic: ClassVar[str] = INVITATION_EVENTS
    key_field: ClassVar[str] = "request_id"

    request_id: RequestId
    resolution: AppointmentRequestResolution = Field(
        description="How it was dealt with.", examples=["invitation_sent"]
    )
    invitation_id: UUID | None = Field(
        default=None,
        description="The invitation sent in answer, if any.",
        examples=[ex.INVITATION_ID],
    )
    reason: str | None = Field(
        json_schema_extra=PERSONAL_TEXT,
        default=None,
        description="Why it was closed this way, in a few non-personal words.",
        examples=["information given by phone"],
    )


class WalkInRegistered(Event):
    """A person or household came to a walk-in desk without an appointment and was registered."""

    event_type: ClassVar[str] = "WalkInRegistered"
    event_version: ClassVar[int] = 1
    topic: ClassVar[str] = INVITATION_EVENTS
    key_field: ClassVar[str] = "visit_id"

    visit_id: UUID = Field(description="The desk visit.", examples=[ex.VISIT_ID])
    desk: DeskCode = Field(description="The walk-in desk visited.")
    region: ResponsibleRegion
    coach_id: SubjectId | None = Field(
        default=None, description="Coach who received them.", examples=["coach-4711"]
    )
    language: AddressedIn
    members: Members
    adults: Adults
    minors: Minors
    outcome: WalkInOutcome | None = Field(
        default=None,
        description="Interview on the spot, or an invitation for later (null only if not recorded).",
        examples=["interview_on_the_spot"],
    )
    invitation_id: UUID | None = Field(
        default=None,
        description="The invitation handed over when the outcome is an invitation.",
        examples=[ex.INVITATION_ID],
    )


class MatchDecision(StrEnum):
    """What the coach decided about possible existing households at first contact."""

    LINKED = "linked"
    NEW_HOUSEHOLD = "new_household"


class HouseholdMatchDecided(Event):
    """At first contact the platform found possible existing households for the people registered,
    and the coach decided: the contact belongs to one of them (``linked``), or to a new household.
    No personal data: the households compared, the scores and the kinds of reasons."""

    event_type: ClassVar[str] = "HouseholdMatchDecided"
    event_version: ClassVar[int] = 1
    topic: ClassVar[str] = INVITATION_EVENTS
    key_field: ClassVar[str] = "household_id"

    decision: MatchDecision = Field(
        description="Linked to an existing household, or a new one.", examples=["linked"]
    )
    candidates: tuple[UUID, ...] = Field(
        description="The possible existing households the coach was shown.", examples=[[ex.HOUSEHOLD_ID]]
    )
    first_contact_id: UUID = Field(
        description="The invitation, request or desk visit the decision was taken for.",
        examples=[ex.INVITATION_ID],
    )
