"""Request and response bodies of the referral service's HTTP API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from icam_contracts.enums import Language, ReferralWithdrawalReason
from icam_contracts.personal_data import PERSONAL_DATA_EXAMPLE
from icam_kernel.http_commands import CommandAccepted

REFERRAL_ID = "81d35076-ca2a-4f64-83bb-6fa2b1c03de7"
CASE_ID = "9a4b6c2d-1e3f-4a5b-8c7d-0e1f2a3b4c5d"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_version: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="The referral version the caller saw; 409 when it moved on.",
        examples=[1],
    )


class Acknowledge(_Body):
    """The partner takes the referral on."""

    partner_reference: str | None = Field(
        default=None,
        max_length=100,
        description="The partner's own file reference.",
        examples=["FED-2026-00123"],
    )


class Reject(_Body):
    """The partner declines the referral."""

    reason: str = Field(
        min_length=1,
        max_length=500,
        description="Why, in non-personal words.",
        examples=["destination country outside the programme"],
    )


class Departure(_Body):
    """The household left: the voluntary return is completed."""

    departed_on: date = Field(description="Day of departure (not in the future).", examples=["2026-04-20"])
    destination_country: str = Field(
        pattern=r"^[A-Z]{2}$", description="Country of return, ISO 3166-1 alpha-2.", examples=["MA"]
    )
    reintegration_support: bool = Field(
        description="Whether reintegration support was granted.", examples=[True]
    )
    person_ids: list[Annotated[str, Field(min_length=1, max_length=50)]] | None = Field(
        default=None,
        min_length=1,
        max_length=20,
        description="Dossier references of the members who left; all members when omitted.",
        examples=[["8123456", "8123457"]],
    )


class Withdrawal(_Body):
    """The person withdrew from the voluntary return."""

    reason: ReferralWithdrawalReason = Field(
        default=ReferralWithdrawalReason.PERSON_CHANGED_MIND,
        description="Why.",
        examples=["person_changed_mind"],
    )
    reason_text: str | None = Field(
        default=None,
        max_length=500,
        description="Explanation in non-personal words.",
        examples=["wants to wait"],
    )

    @model_validator(mode="after")
    def _other_says_what(self) -> Withdrawal:
        if self.reason is ReferralWithdrawalReason.OTHER and not self.reason_text:
            raise ValueError("reason_text is required when reason is other")
        return self


class ReferralAccepted(CommandAccepted):
    """Where the command left the referral, and what followed a rejection."""

    referral_id: UUID = Field(examples=[REFERRAL_ID])
    next_referral_id: UUID | None = Field(
        default=None,
        description="After a rejection: the referral to the next suitable partner.",
        examples=[None],
    )
    referral_not_made: str | None = Field(
        default=None,
        description="After a rejection with no partner left: why no new referral.",
        examples=[None],
    )


class PartnerOut(BaseModel):
    """A return partner of the catalogue."""

    code: str = Field(examples=["fedasil"])
    name: str = Field(examples=["Fedasil"])
    roles: list[str] = Field(examples=[["voluntary_return_programme"]])
    regions: list[str] = Field(description='Regions served; "*" for all.', examples=[["*"]])
    languages: list[Language] = Field(examples=[["fr", "nl", "en"]])
    contact_email: str | None = Field(
        description="Where referral notices go; null until the deployment configures it.",
        examples=["referrals@partner.example"],
    )
    acknowledge_within_working_days: int = Field(examples=[5])


class InboxItem(BaseModel):
    """An open referral in a partner's inbox (no personal data: open the referral for that)."""

    referral_id: UUID = Field(examples=[REFERRAL_ID])
    case_id: UUID = Field(examples=[CASE_ID])
    status: Literal["referred", "acknowledged"] = Field(examples=["referred"])
    attempt: int = Field(examples=[1])
    referred_at: datetime = Field(examples=["2026-03-18T15:10:00+01:00"])
    acknowledge_by: datetime = Field(examples=["2026-03-25T17:00:00+01:00"])
    acknowledged: bool = Field(examples=[False])
    deadline_status: Literal["ok", "due_soon", "overdue"] | None = Field(
        description="For unacknowledged referrals: ok, due_soon or overdue.", examples=["ok"]
    )
    overdue: bool = Field(description="Whether ReferralOverdue was raised.", examples=[False])
    language: Language = Field(examples=["fr"])
    region: str | None = Field(examples=["brussels"])
    member_count: int = Field(examples=[2])


class Inbox(BaseModel):
    """A page of a partner's inbox."""

    partner: str = Field(examples=["fedasil"])
    total: int = Field(examples=[1])
    limit: int = Field(examples=[50])
    offset: int = Field(examples=[0])
    items: list[InboxItem]


class ReferralOut(BaseModel):
    """One referral, with the personal data the partner needs."""

    referral_id: UUID = Field(examples=[REFERRAL_ID])
    case_id: UUID = Field(examples=[CASE_ID])
    household_id: UUID
    decision_id: UUID
    partner: str = Field(examples=["fedasil"])
    region: str | None = Field(examples=["brussels"])
    language: Language = Field(examples=["fr"])
    members: list[dict[str, Any]] = Field(examples=[[PERSONAL_DATA_EXAMPLE]])
    attempt: int = Field(examples=[1])
    selection_reason: str | None
    status: str = Field(examples=["referred"])
    referred_at: datetime
    acknowledge_by: datetime
    overdue: bool
    acknowledged_at: datetime | None
    partner_reference: str | None
    rejected_at: datetime | None
    reject_reason: str | None
    withdrawn_at: datetime | None
    withdrawal_reason: str | None
    departed_on: date | None
    destination: str | None
    reintegration: bool | None
    version: int = Field(description="Stream version: pass it as expected_version.", examples=[1])


class PipelineRow(BaseModel):
    """Counts of referrals by partner, region and month of referral."""

    partner: str
    region: str
    month: str = Field(examples=["2026-03"])
    referred: int
    acknowledged: int
    departed: int
    withdrawn: int
    rejected: int
    open: int
    overdue: int
    reintegration_support: int
    avg_hours_to_acknowledgement: float | None
    avg_days_to_departure: float | None


class NotMadeRow(BaseModel):
    """Decisions (return accepted) that led to no referral, by reason, region and month."""

    reason: str = Field(examples=["no_consent"])
    region: str
    month: str
    count: int


class Pipeline(BaseModel):
    """The referral pipeline: counts only, never personal data."""

    rows: list[PipelineRow]
    not_made: list[NotMadeRow]
