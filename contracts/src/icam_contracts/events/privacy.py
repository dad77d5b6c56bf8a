"""Events of personal-data protection: erasures, what each service purged, retention holds.

None of them carries personal data: dossier references, household ids and key ids only.
"""

from __future__ import annotations

from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import AwareDatetime, Field

from icam_contracts.base import Contract, Event
from icam_contracts.enums import ErasureBasis
from icam_contracts.events import _examples as ex
from icam_contracts.topics import (
    CASE_EVENTS,
    INVITATION_EVENTS,
    NOTIFICATION_EVENTS,
    PRIVACY_EVENTS,
    REFERRAL_EVENTS,
)

ErasureId = Annotated[UUID, Field(description="The erasure order.", examples=[ex.ERASURE_ID])]


class PersonalDataErased(Event):
    """A person's personal data was erased: their data key and the keys of their households' free
    texts are destroyed, so every sealed copy anywhere is unreadable. Subscribers purge what they
    keep in clear about these persons and households, and drop the keys from their caches."""

    event_type: ClassVar[str] = "PersonalDataErased"
    event_version: ClassVar[int] = 1
    topic: ClassVar[str] = PRIVACY_EVENTS
    key_field: ClassVar[str] = "erasure_id"

    erasure_id: ErasureId
    person_ids: tuple[str, ...] = Field(
        min_length=1, description="Dossier references of the persons erased.", examples=[[ex.PERSON_ID]]
    )
    household_ids: tuple[UUID, ...] = Field(
        description="Every household they belong to (its free texts are erased too).",
        examples=[[ex.HOUSEHOLD_ID]],
    )
    key_ids: tuple[UUID, ...] = Field(
        description="The data keys destroyed: drop them from any cache.", examples=[[ex.KEY_ID]]
    )
    legal_basis: ErasureBasis = Field(description="Why.", examples=["purpose_ended"])
    ordered_by: str = Field(
        min_length=1,
        max_length=200,
        description="The data-protection officer who ordered it, or `retention` for the timer.",
        examples=["dpo-1"],
    )
    order_reference: str | None = Field(
        default=None,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9./_-]*$",
        description="The data-protection officer's file reference, if any.",
        examples=["DPO-2026-0042"],
    )
    erased_at: AwareDatetime = Field(description="When the keys were destroyed.", examples=[ex.ERASED_AT])


class PurgedStore(Contract):
    """One store of a service and how many of its rows were purged or blanked."""

    store: str = Field(min_length=1, description="Table, file set or cache.", examples=["caseload"])
    rows: int = Field(ge=0, description="Rows purged or blanked.", examples=[1])


class _DataPurged(Event):
    """What one service purged for an erasure (part of the erasure's receipt)."""

    key_field: ClassVar[str] = "erasure_id"
    event_version: ClassVar[int] = 1

    erasure_id: ErasureId
    service: str = Field(pattern=r"^[a-z]+$", description="The service that purged.", examples=["case"])
    stores: tuple[PurgedStore, ...] = Field(
        description="Every store the service keeps personal data in, with its count (0 included).",
        examples=[[{"store": "caseload", "rows": 1}]],
    )
    purged_at: AwareDatetime = Field(description="When the purge committed.", examples=[ex.ERASED_AT])


class InvitationDataPurged(_DataPurged):
    """The invitation service purged what it kept in clear about an erased person."""

    event_type: ClassVar[str] = "InvitationDataPurged"
    topic: ClassVar[str] = INVITATION_EVENTS


class CaseDataPurged(_DataPurged):
    """The case service purged what it kept in clear about an erased person."""

    event_type: ClassVar[str] = "CaseDataPurged"
    topic: ClassVar[str] = CASE_EVENTS


class ReferralDataPurged(_DataPurged):
    """The referral service purged what it kept in clear about an erased person."""

    event_type: ClassVar[str] = "ReferralDataPurged"
    topic: ClassVar[str] = REFERRAL_EVENTS


class NotificationDataPurged(_DataPurged):
    """The notification service purged what it kept in clear about an erased person."""

    event_type: ClassVar[str] = "NotificationDataPurged"
    topic: ClassVar[str] = NOTIFICATION_EVENTS


HoldId = Annotated[UUID, Field(description="The retention hold.", examples=[ex.HOLD_ID])]


class RetentionHoldPlaced(Event):
    """A legal hold keeps a household's data beyond its retention period (a procedure, a court
    case, an inspection), until it is released."""

    event_type: ClassVar[str] = "RetentionHoldPlaced"
    event_version: ClassVar[int] = 1
    topic: ClassVar[str] = PRIVACY_EVENTS
    key_field: ClassVar[str] = "hold_id"

    hold_id: HoldId
    basis: str = Field(
        min_length=1,
        max_length=200,
        description="The legal ground, in non-personal words.",
        examples=["appeal pending before the Council for Alien Law Litigation"],
    )
    order_reference: str | None = Field(
        default=None, max_length=100, description="The DPO's reference.", examples=["DPO-2026-0043"]
    )
    placed_by: str = Field(min_length=1, max_length=200, description="The DPO.", examples=["dpo-1"])


class RetentionHoldReleased(Event):
    """A legal hold ended: retention applies again (at once when its period already passed)."""

    event_type: ClassVar[str] = "RetentionHoldReleased"
    event_version: ClassVar[int] = 1
    topic: ClassVar[str] = PRIVACY_EVENTS
    key_field: ClassVar[str] = "hold_id"

    hold_id: HoldId
    released_by: str = Field(min_length=1, max_length=200, description="The DPO.", examples=["dpo-1"])
