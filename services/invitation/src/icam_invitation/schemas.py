"""HTTP request and response bodies, with examples for the OpenAPI document."""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from icam_contracts.enums import (
    AppointmentRequestResolution,
    Channel,
    EntryChannel,
    InvitationResponse,
    Language,
    MemberRole,
    VulnerabilityCategory,
)
from icam_contracts.events.invitation import WalkInOutcome
from icam_contracts.personal_data import ContactDetails, PersonalData, PostalAddress
from icam_kernel.inputs import (
    BirthDate,
    Code,
    Email,
    Label,
    Name,
    Phone,
    Subject,
    belgian_postal_code,
    foreign_postal_code,
)

ADDRESS: Final = {
    "street": "Rue Haute",
    "house_number": "120",
    "postal_code": "1000",
    "municipality": "Bruxelles",
}
ADULT: Final = {
    "role": "adult",
    "person_id": "8123456",
    "given_name": "Amina",
    "family_name": "Example",
    "preferred_language": "fr",
    "contact": {"postal_address": ADDRESS, "email": "a.example@example.org", "phone": "+32470123456"},
}
CHILD: Final = {"role": "minor", "person_id": "8123457", "given_name": "Yasmine", "family_name": "Example"}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AddressIn(_Body):
    """A postal address as typed: a Belgian postal code is four digits 1000-9999."""

    street: Name = Field(examples=["Rue Haute"])
    house_number: str = Field(min_length=1, max_length=20, pattern=r"^[0-9A-Za-z /\-]+$", examples=["120"])
    box: str | None = Field(default=None, max_length=20, pattern=r"^[0-9A-Za-z /\-]+$", examples=["3"])
    country: str = Field(default="BE", pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2.")
    postal_code: str = Field(max_length=16, examples=["1000"])
    municipality: Name = Field(examples=["Bruxelles"])

    @field_validator("postal_code")
    @classmethod
    def _postal_code(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("country", "BE") == "BE":
            return belgian_postal_code(value)
        return foreign_postal_code(value)

    def contract(self) -> PostalAddress:
        return PostalAddress(**self.model_dump())


class ContactIn(_Body):
    """How the person can be reached; e-mail and phone are checked (phone kept in E.164)."""

    postal_address: AddressIn | None = None
    email: Email | None = Field(default=None, examples=["a.example@example.org"])
    phone: Phone | None = Field(default=None, examples=["+32470123456"])

    def contract(self) -> ContactDetails:
        address = self.postal_address.contract() if self.postal_address else None
        return ContactDetails(postal_address=address, email=self.email, phone=self.phone)


class MemberIn(_Body):
    """A household member: their role and personal data (the dossier reference is ``person_id``)."""

    role: MemberRole = Field(examples=["adult"])
    person_id: str = Field(
        min_length=1,
        max_length=50,
        pattern=r"^[0-9A-Za-z./\-]+$",
        description="Immigration Office dossier reference.",
    )
    given_name: Name | None = None
    family_name: Name | None = None
    birth_date: BirthDate | None = None
    nationality: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    preferred_language: Language | None = None
    contact: ContactIn | None = None
    vulnerabilities: tuple[VulnerabilityCategory, ...] = Field(default=(), max_length=10)

    def personal_data(self) -> PersonalData:
        """The contract's per-person object; the role becomes ``is_minor``."""
        fields = self.model_dump(exclude={"role", "contact"})
        contact = self.contact.contract() if self.contact else None
        return PersonalData(**fields, contact=contact, is_minor=self.role is MemberRole.MINOR)


def personal_data(members: list[MemberIn]) -> tuple[PersonalData, ...]:
    """The contract objects of ``members``, in order."""
    return tuple(m.personal_data() for m in members)


class PersonIn(_Body):
    """Who is being registered, as far as it is known (for duplicate detection)."""

    person_id: str | None = Field(default=None, min_length=1, max_length=50, pattern=r"^[0-9A-Za-z./\-]+$")
    given_name: Name | None = None
    family_name: Name | None = None
    birth_date: BirthDate | None = None
    nationality: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


class DuplicateCheckIn(_Body):
    """The people of a first contact, before the invitation, request or visit is recorded."""

    members: list[PersonIn] = Field(min_length=1, max_length=20)


class PossibleHousehold(BaseModel):
    """An existing household that may be this one: how sure, and why (no names)."""

    household_id: UUID
    person_id: str | None = Field(
        description="The dossier reference of the person it matched, if in your region."
    )
    score: float = Field(examples=[0.93])
    likely: bool = Field(description="Score at or above the 'likely the same person' line.")
    reasons: list[str] = Field(examples=[["similar name (0.93)", "same birth date"]])
    region: str | None
    yours: bool = Field(description="In your region: you may open its case.")


class DuplicateCheckOut(BaseModel):
    candidates: list[PossibleHousehold]


class MatchDecisionIn(_Body):
    """What the coach decided about the possible existing households they were shown."""

    candidates: list[UUID] = Field(min_length=1, max_length=20)
    linked_to: UUID | None = Field(
        default=None, description="The existing household; omitted: a new household."
    )


class SlotIn(_Body):
    """When and how to invite: the slot, the channels, optionally the coach, office and language."""

    appointment_at: AwareDatetime = Field(examples=["2026-03-11T10:00:00+01:00"])
    channels: list[Channel] = Field(min_length=1, max_length=3, examples=[["postal_letter", "email"]])
    coach_id: Subject | None = Field(default=None, description="Defaults to the calling coach.")
    office: Code | None = Field(default=None, description="Defaults to the office serving the postal code.")
    language: Language | None = Field(
        default=None, description="Defaults to the preferred language if offered."
    )


class SendInvitationIn(SlotIn):
    """Invite a person or household to an interview."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "members": [ADULT, CHILD],
                    "appointment_at": "2026-03-11T10:00:00+01:00",
                    "channels": ["postal_letter", "email"],
                    "coach_id": "coach-4711",
                }
            ]
        },
    )

    household_id: UUID | None = Field(default=None, description="Given at first contact; new if absent.")
    invitation_id: UUID | None = Field(default=None, description="Client-chosen id (retries); new if absent.")
    members: list[MemberIn] = Field(min_length=1, max_length=20)
    entry_channel: EntryChannel = EntryChannel.INVITATION_LETTER
    attempt: int = Field(default=1, ge=1, le=100)
    match: MatchDecisionIn | None = Field(
        default=None, description="The decision on possible existing households."
    )
    previous_invitation_id: UUID | None = None


class RescheduleIn(_Body):
    """Move the interview."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "appointment_at": "2026-03-18T14:00:00+01:00",
                    "requested_by_person": True,
                    "reason": "school holiday",
                }
            ]
        },
    )

    appointment_at: AwareDatetime
    requested_by_person: bool = False
    reason: Label | None = None


class CancelIn(_Body):
    """Withdraw the invitation."""

    reason: Label = Field(examples=["household already coached in another region"])


class ResponseIn(_Body):
    """The person's answer."""

    response: InvitationResponse = Field(examples=["confirmed"])
    via: Channel | None = Field(default=None, examples=["email"])


class AppointmentRequestIn(_Body):
    """A request for an appointment that came to the helpline."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "entry_channel": "helpline_phone",
                    "language": "fr",
                    "members": [ADULT],
                    "subject": "wants to talk about voluntary return",
                }
            ]
        },
    )

    household_id: UUID | None = None
    request_id: UUID | None = None
    entry_channel: EntryChannel = Field(examples=["helpline_email"])
    language: Language
    region: Code | None = Field(
        default=None, description="Defaults to the region of the postal code, if any."
    )
    members: list[MemberIn] = Field(min_length=1, max_length=20)
    subject: Label | None = None
    match: MatchDecisionIn | None = Field(
        default=None, description="The decision on possible existing households."
    )


class InviteIn(SlotIn):
    """Answer a request with an invitation (members default to the request's)."""

    invitation_id: UUID | None = None
    members: list[MemberIn] | None = Field(default=None, min_length=1, max_length=20)


class CloseRequestIn(_Body):
    """Close a request without an invitation."""

    resolution: AppointmentRequestResolution = Field(examples=["answered_without_appointment"])
    reason: Label = Field(examples=["information given by phone"])


class WalkInIn(_Body):
    """A household at the walk-in desk, and what the visit led to."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"members": [ADULT], "outcome": "interview_on_the_spot", "coach_id": "coach-4711"}]
        },
    )

    household_id: UUID | None = None
    visit_id: UUID | None = None
    members: list[MemberIn] = Field(min_length=1, max_length=20)
    outcome: WalkInOutcome
    coach_id: Subject | None = None
    language: Language | None = None
    invitation: SlotIn | None = Field(default=None, description="Required when the outcome is an invitation.")
    match: MatchDecisionIn | None = Field(
        default=None, description="The decision on possible existing households."
    )


class Accepted(BaseModel):
    """Where the command left its stream; ``position`` is the global position (read-your-writes)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "stream_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                    "stream_version": 1,
                    "position": 42,
                    "household_id": "5b0c3f0e-8a51-4c1f-9a59-3f0f0c3b2a10",
                    "correlation_id": "5b0c3f0e-8a51-4c1f-9a59-3f0f0c3b2a10",
                    "command_id": "a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607",
                }
            ]
        }
    )

    stream_id: str
    stream_version: int
    position: int
    household_id: str
    correlation_id: str
    command_id: str


class Page(BaseModel):
    """A page of read-model rows."""

    items: list[dict[str, Any]]
    limit: int
    offset: int
    total: int
