"""The state of a referral, folded from its events; and the household a referral is made for."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from functools import singledispatch
from typing import Final
from uuid import UUID

from icam_contracts.base import Event
from icam_contracts.enums import Language
from icam_contracts.events import (
    ReferralAcknowledged,
    ReferralOverdue,
    ReferralRejected,
    ReferralWithdrawn,
    ReferredToReturnPartner,
    VoluntaryReturnCompleted,
)
from icam_contracts.personal_data import PersonalData


class ReferralStatus(StrEnum):
    """Where a referral stands."""

    NEW = "new"
    REFERRED = "referred"
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    DEPARTED = "departed"


OPEN = frozenset({ReferralStatus.REFERRED, ReferralStatus.ACKNOWLEDGED})


@dataclass(frozen=True)
class Household:
    """What the referral service keeps about a case's household, learned from case events."""

    case_id: UUID
    household_id: UUID
    region: str
    language: Language
    members: tuple[PersonalData, ...]


@dataclass(frozen=True)
class Referral:
    """The state of one referral, folded from its events."""

    referral_id: UUID
    status: ReferralStatus = ReferralStatus.NEW
    case_id: UUID | None = None
    household_id: UUID | None = None
    decision_id: UUID | None = None
    partner: str | None = None
    region: str | None = None
    language: Language | None = None
    members: tuple[PersonalData, ...] = ()
    consent_recorded_at: datetime | None = None
    acknowledge_by: datetime | None = None
    attempt: int = 0
    declined_by: tuple[str, ...] = ()
    overdue: bool = False


@singledispatch
def evolve(event: Event, state: Referral) -> Referral:
    """The state after `event`; events that do not change it leave it as it is."""
    return state


@evolve.register
def _(event: ReferredToReturnPartner, state: Referral) -> Referral:
    return replace(
        state,
        status=ReferralStatus.REFERRED,
        case_id=event.case_id,
        household_id=event.household_id,
        decision_id=event.decision_id,
        partner=event.partner,
        region=event.region,
        language=event.language,
        members=event.members,
        consent_recorded_at=event.consent_recorded_at,
        acknowledge_by=event.acknowledge_by,
        attempt=event.attempt,
        declined_by=event.declined_by,
    )


@evolve.register
def _(event: ReferralAcknowledged, state: Referral) -> Referral:
    return replace(state, status=ReferralStatus.ACKNOWLEDGED)


@evolve.register
def _(event: ReferralRejected, state: Referral) -> Referral:
    return replace(state, status=ReferralStatus.REJECTED)


@evolve.register
def _(event: ReferralWithdrawn, state: Referral) -> Referral:
    return replace(state, status=ReferralStatus.WITHDRAWN)


@evolve.register
def _(event: VoluntaryReturnCompleted, state: Referral) -> Referral:
    return replace(state, status=ReferralStatus.DEPARTED)


@evolve.register
def _(event: ReferralOverdue, state: Referral) -> Referral:
    return replace(state, overdue=True)


def fold(referral_id: UUID, events: Iterable[Event]) -> Referral:
    """The referral's current state from its events, oldest first."""
    state = Referral(referral_id=referral_id)
    for event in events:
        state = evolve(event, state)
    return state


class _ReferralStream:
    """The referral stream's decider: a referral is `NEW` until its first event."""

    kind = "referral"

    def initial(self, stream_id: str) -> Referral:
        return Referral(referral_id=UUID(stream_id))

    def evolve(self, state: Referral, event: Event, occurred_at: datetime) -> Referral:
        return evolve(event, state)

    def exists(self, state: Referral) -> bool:
        return state.status is not ReferralStatus.NEW


REFERRAL: Final = _ReferralStream()
"""The referral stream's decider (`icam_kernel.decider.Decider`)."""
