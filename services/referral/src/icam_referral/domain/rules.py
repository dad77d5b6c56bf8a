"""The rules of a referral: a household referred to one return partner, followed until departure.

Pure: command functions check the rules and return contract events (`state.evolve` folds them).
Time, ids, the partner catalogue and the working-day calendar are passed in.
One referral goes to one partner; when that partner declines, a *new* referral (a new stream)
goes to the next suitable partner, so each partner only ever sees its own referrals.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TypeVar
from uuid import UUID

from icam_contracts.base import Event
from icam_contracts.enums import (
    ReferralNotMadeReason,
    ReferralWithdrawalReason,
    VulnerabilityCategory,
)
from icam_contracts.events import (
    ReferralAcknowledged,
    ReferralNotMade,
    ReferralOverdue,
    ReferralRejected,
    ReferralWithdrawn,
    ReferredToReturnPartner,
    VoluntaryReturnCompleted,
)
from icam_contracts.personal_data import PersonalData
from icam_referral.domain.errors import AlreadyAcknowledged, InvalidDeparture, NotAcknowledged, ReferralClosed
from icam_referral.domain.partners import PartnerCatalogue
from icam_referral.domain.state import OPEN, Household, Referral, ReferralStatus
from icam_referral.domain.working_days import WorkingCalendar

T = TypeVar("T")

# Categories a partner needs to plan a safe journey (escort, medical care, child care). The
# others (victim of trafficking or violence, "other") are shared only after a conversation, not
# with the referral. Configurable: see `config.py`.
RETURN_RELEVANT_VULNERABILITIES: frozenset[VulnerabilityCategory] = frozenset(
    {
        VulnerabilityCategory.UNACCOMPANIED_MINOR,
        VulnerabilityCategory.PREGNANCY,
        VulnerabilityCategory.SERIOUS_ILLNESS,
        VulnerabilityCategory.DISABILITY,
        VulnerabilityCategory.MENTAL_HEALTH,
        VulnerabilityCategory.ELDERLY,
        VulnerabilityCategory.SINGLE_PARENT,
    }
)


def minimise(member: PersonalData, shared: frozenset[VulnerabilityCategory]) -> PersonalData:
    """The member as a partner may see them: identity and contact, only return-relevant flags."""
    return member.model_copy(
        update={"vulnerabilities": tuple(v for v in member.vulnerabilities if v in shared)}
    )


def decide_referral(
    *,
    household: Household,
    decision_id: UUID,
    consent: bool | None,
    preferred_partner: str | None,
    consent_recorded_at: datetime,
    referral_id: UUID,
    catalogue: PartnerCatalogue,
    calendar: WorkingCalendar,
    shared_vulnerabilities: frozenset[VulnerabilityCategory] = RETURN_RELEVANT_VULNERABILITIES,
) -> ReferredToReturnPartner | ReferralNotMade:
    """A return was accepted: refer to the partner the rules choose, or say why no referral is made."""
    not_made = {
        "household_id": household.household_id,
        "case_id": household.case_id,
        "decision_id": decision_id,
    }
    if consent is not True:
        return ReferralNotMade(**not_made, reason=ReferralNotMadeReason.NO_CONSENT, partner=preferred_partner)
    choice = catalogue.choose(
        region=household.region, language=household.language, preferred=preferred_partner
    )
    if choice is None:
        return ReferralNotMade(
            **not_made, reason=ReferralNotMadeReason.NO_PARTNER_AVAILABLE, partner=preferred_partner
        )
    return ReferredToReturnPartner(
        household_id=household.household_id,
        referral_id=referral_id,
        case_id=household.case_id,
        decision_id=decision_id,
        partner=choice.partner.code,
        consent_recorded_at=consent_recorded_at,
        language=household.language,
        members=tuple(minimise(m, shared_vulnerabilities) for m in household.members),
        acknowledge_by=calendar.deadline(consent_recorded_at, choice.partner.acknowledge_within_working_days),
        region=household.region,
        selection_reason=choice.reason,
    )


def acknowledge(referral: Referral, *, partner_reference: str | None) -> list[Event]:
    """The partner takes the referral on."""
    _require_open(referral)
    if referral.status is ReferralStatus.ACKNOWLEDGED:
        raise AlreadyAcknowledged(
            "the referral was already acknowledged", referral_id=str(referral.referral_id)
        )
    return [ReferralAcknowledged(**_ids(referral), partner_reference=partner_reference)]


def reject(referral: Referral, *, reason: str) -> list[Event]:
    """The partner declines the referral (before or after acknowledging it)."""
    _require_open(referral)
    return [ReferralRejected(**_ids(referral), reason=reason)]


def refer_onward(
    rejected: Referral,
    *,
    new_referral_id: UUID,
    now: datetime,
    catalogue: PartnerCatalogue,
    calendar: WorkingCalendar,
) -> ReferredToReturnPartner | ReferralNotMade:
    """After a rejection: a new referral to the next suitable partner, or back to the coach."""
    assert rejected.partner is not None and rejected.region is not None and rejected.language is not None
    declined = (*rejected.declined_by, rejected.partner)
    choice = catalogue.choose(region=rejected.region, language=rejected.language, declined_by=declined)
    if choice is None:
        return ReferralNotMade(
            household_id=_known(rejected.household_id),
            case_id=_known(rejected.case_id),
            decision_id=_known(rejected.decision_id),
            reason=ReferralNotMadeReason.NONE_LEFT,
            partner=rejected.partner,
            declined_by=declined,
        )
    return ReferredToReturnPartner(
        household_id=_known(rejected.household_id),
        referral_id=new_referral_id,
        case_id=_known(rejected.case_id),
        decision_id=_known(rejected.decision_id),
        partner=choice.partner.code,
        consent_recorded_at=_known(rejected.consent_recorded_at),
        language=rejected.language,
        members=rejected.members,
        acknowledge_by=calendar.deadline(now, choice.partner.acknowledge_within_working_days),
        region=rejected.region,
        selection_reason=choice.reason,
        attempt=rejected.attempt + 1,
        declined_by=declined,
        previous_referral_id=rejected.referral_id,
    )


def record_departure(
    referral: Referral,
    *,
    departed_on: date,
    destination_country: str,
    reintegration_support: bool,
    person_ids: Sequence[str] | None,
    today: date,
) -> list[Event]:
    """The partner confirms the household left; all members unless `person_ids` names some."""
    _require_open(referral)
    if referral.status is not ReferralStatus.ACKNOWLEDGED:
        raise NotAcknowledged("acknowledge the referral before recording a departure")
    if departed_on > today:
        raise InvalidDeparture("a departure cannot be recorded before it happens", field="departed_on")
    known = [m.person_id for m in referral.members]
    departed = tuple(person_ids) if person_ids else tuple(known)
    unknown = sorted(set(departed) - set(known))
    if unknown:
        raise InvalidDeparture("persons not in the referral", field="person_ids", unknown=unknown)
    return [
        VoluntaryReturnCompleted(
            **_ids(referral),
            departed_on=departed_on,
            destination_country=destination_country,
            person_ids=departed,
            reintegration_support=reintegration_support,
        )
    ]


def withdraw(referral: Referral, *, reason: ReferralWithdrawalReason, reason_text: str | None) -> list[Event]:
    """The referral ends before departure: the person changed their mind, or the outcome changed."""
    _require_open(referral)
    return [ReferralWithdrawn(**_ids(referral), reason=reason, reason_text=reason_text)]


def mark_overdue(referral: Referral, *, now: datetime) -> list[Event]:
    """The deadline timer fired: overdue only if still unacknowledged and the deadline has passed."""
    if referral.status is not ReferralStatus.REFERRED or referral.overdue or referral.acknowledge_by is None:
        return []
    if now < referral.acknowledge_by:
        return []
    return [ReferralOverdue(**_ids(referral), acknowledge_by=referral.acknowledge_by)]


def _require_open(referral: Referral) -> None:
    if referral.status is ReferralStatus.NEW:
        raise ReferralClosed("no such referral", referral_id=str(referral.referral_id))
    if referral.status not in OPEN:
        raise ReferralClosed(f"the referral is {referral.status}", referral_status=str(referral.status))


def _known(value: T | None) -> T:
    assert value is not None, "a referred referral knows its case, decision and consent"
    return value


def _ids(referral: Referral) -> dict[str, object]:
    return {
        "household_id": _known(referral.household_id),
        "referral_id": referral.referral_id,
        "case_id": _known(referral.case_id),
        "partner": _known(referral.partner),
    }
