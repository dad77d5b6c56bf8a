"""Events of the referral service: referrals to a return partner and what became of them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import AwareDatetime, Field

from icam_contracts.base import Event, PartnerCode, RegionCode
from icam_contracts.enums import Language, ReferralNotMadeReason, ReferralWithdrawalReason
from icam_contracts.events import _examples as ex
from icam_contracts.personal_data import PERSONAL_TEXT, PersonalData
from icam_contracts.topics import REFERRAL_EVENTS

ReferralId = Annotated[UUID, Field(description="The referral.", examples=[ex.REFERRAL_ID])]
CaseOfReferral = Annotated[
    UUID, Field(description="The case the referral belongs to.", examples=[ex.CASE_ID])
]
Partner = Annotated[PartnerCode, Field(description="The return partner.")]


class ReferralEvent(Event):
    """An event of the referral aggregate, keyed by ``referral_id``."""

    topic: ClassVar[str] = REFERRAL_EVENTS
    key_field: ClassVar[str] = "referral_id"


class ReferredToReturnPartner(ReferralEvent):
    """With the person's consent, the household was referred to a return partner.

    The partner receives the personal data it needs to prepare a voluntary return and is
    expected to acknowledge the referral by ``acknowledge_by``.
    """

    event_type: ClassVar[str] = "ReferredToReturnPartner"
    event_version: ClassVar[int] = 1

    referral_id: ReferralId
    case_id: CaseOfReferral
    decision_id: UUID = Field(
        description="The outcome decision (return accepted) the referral follows.",
        examples=[ex.DECISION_ID],
    )
    partner: Partner
    consent_recorded_at: AwareDatetime = Field(
        description="When the person's consent to the referral was recorded.",
        examples=["2026-03-18T15:10:00+01:00"],
    )
    language: Language = Field(description="Language the person is addressed in.", examples=["fr"])
    members: tuple[PersonalData, ...] = Field(
        min_length=1,
        description="Personal data of each member referred.",
        examples=[ex.MEMBERS],
    )
    acknowledge_by: AwareDatetime = Field(
        description="Deadline for the partner's acknowledgement.",
        examples=["2026-03-25T17:00:00+01:00"],
    )
    region: RegionCode | None = Field(
        default=None,
        description="ICAM region of the household, which the partner serves.",
        examples=["brussels"],
    )
    selection_reason: str | None = Field(
        default=None,
        description="Why this partner was chosen (the deterministic selection rules, in words).",
        examples=["preferred partner; role voluntary_return_programme; serves brussels; speaks fr"],
    )
    attempt: int = Field(
        default=1,
        ge=1,
        description="1 for the first referral of a decision; n when n - 1 partners declined before.",
        examples=[1],
    )
    declined_by: tuple[PartnerCode, ...] = Field(
        default=(),
        description="Partners that declined a referral for the same decision before this one.",
        examples=[[]],
    )
    previous_referral_id: UUID | None = Field(
        default=None,
        description="The declined referral this one follows, if any.",
        examples=[None],
    )


class ReferralAcknowledged(ReferralEvent):
    """The return partner took the referral on."""

    event_type: ClassVar[str] = "ReferralAcknowledged"
    event_version: ClassVar[int] = 1

    referral_id: ReferralId
    case_id: CaseOfReferral
    partner: Partner
    partner_reference: str | None = Field(
        json_schema_extra=PERSONAL_TEXT,
        default=None,
        description="The partner's own file reference.",
        examples=["FED-2026-00123"],
    )


class ReferralRejected(ReferralEvent):
    """The return partner declined the referral."""

    event_type: ClassVar[str] = "ReferralRejected"
    event_version: ClassVar[int] = 1

    referral_id: ReferralId
    case_id: CaseOfReferral
    partner: Partner
    reason: str = Field(
        json_schema_extra=PERSONAL_TEXT,
        min_length=1,
        description="Why, in non-personal words.",
        examples=["destination country outside the programme"],
    )


class ReferralWithdrawn(ReferralEvent):
    """ICAM withdrew the referral before departure (the person may still change their mind)."""

    event_type: ClassVar[str] = "ReferralWithdrawn"
    event_version: ClassVar[int] = 1

    referral_id: ReferralId
    case_id: CaseOfReferral
    partner: Partner
    reason: ReferralWithdrawalReason = Field(description="Why.", examples=["person_changed_mind"])
    reason_text: str | None = Field(
        json_schema_extra=PERSONAL_TEXT,
        default=None,
        description="Explanation, in non-personal words.",
        examples=["wants to wait"],
    )


class ReferralOverdue(ReferralEvent):
    """The partner did not acknowledge the referral in time."""

    event_type: ClassVar[str] = "ReferralOverdue"
    event_version: ClassVar[int] = 1

    referral_id: ReferralId
    case_id: CaseOfReferral
    partner: Partner
    acknowledge_by: AwareDatetime = Field(
        description="The deadline that passed.", examples=["2026-03-25T17:00:00+01:00"]
    )


class ReferralNotMade(Event):
    """A return was accepted but no referral was made; the case is told why.

    Keyed by ``case_id``: no referral exists to key it by.
    """

    event_type: ClassVar[str] = "ReferralNotMade"
    event_version: ClassVar[int] = 1
    topic: ClassVar[str] = REFERRAL_EVENTS
    key_field: ClassVar[str] = "case_id"

    case_id: CaseOfReferral
    decision_id: UUID = Field(
        description="The outcome decision that did not lead to a referral.",
        examples=[ex.DECISION_ID],
    )
    reason: ReferralNotMadeReason = Field(description="Why.", examples=["no_consent"])
    partner: PartnerCode | None = Field(
        default=None, description="The partner that was asked for, if any.", examples=["fedasil"]
    )
    declined_by: tuple[PartnerCode, ...] = Field(
        default=(),
        description="Partners that declined a referral for this decision (reason none_left).",
        examples=[[]],
    )


class VoluntaryReturnCompleted(ReferralEvent):
    """The return partner confirmed that the household departed voluntarily."""

    event_type: ClassVar[str] = "VoluntaryReturnCompleted"
    event_version: ClassVar[int] = 1

    referral_id: ReferralId
    case_id: CaseOfReferral
    partner: Partner
    departed_on: date = Field(description="Day of departure.", examples=["2026-04-20"])
    destination_country: str = Field(
        pattern=r"^[A-Z]{2}$",
        description="Country of return, ISO 3166-1 alpha-2 (counted for EU reporting).",
        examples=["MA"],
    )
    person_ids: tuple[str, ...] = Field(
        min_length=1,
        description="Dossier references of the members who departed.",
        examples=[["8123456", "8123457"]],
    )
    reintegration_support: bool = Field(
        description="Whether reintegration support was granted.", examples=[True]
    )
