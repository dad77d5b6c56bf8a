"""Sample triggering events and households, shared by the tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from icam_contracts.enums import Channel, Language, RecipientKind
from icam_contracts.events import (
    InvitationCancelled,
    InvitationReminderDue,
    InvitationRescheduled,
    InvitationSent,
    OutcomeDecided,
    ReferredToReturnPartner,
    TrajectoryClosed,
)
from icam_contracts.personal_data import PersonalData
from icam_contracts.reference import DEFAULT_REFERENCE_DATA
from icam_notification.domain import Household, MessageKind, Recipient
from icam_notification.messages import ContactInfo, Facts, InvitationFacts

HOUSEHOLD = uuid.UUID("5b0c3f0e-8a51-4c1f-9a59-3f0f0c3b2a10")
CASE = uuid.UUID("9a4b6c2d-1e3f-4a5b-8c7d-0e1f2a3b4c5d")
INVITATION = uuid.UUID("7c9e6679-7425-40de-944b-e07fc1f90ae7")
REFERRAL = uuid.UUID("81d35076-ca2a-4f64-83bb-6fa2b1c03de7")
DECISION = uuid.UUID("6fb13e54-a808-4d42-a199-4d809fae1bc5")
APPOINTMENT = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)  # 10:00 in Brussels
PROVENANCE = {
    "decided_by": "coach-4711",
    "role": "coach",
    "legal_basis": "Law of 15 December 1980, art. 74/2",
    "policy_version": "icam-guidelines-2024.2",
}


def person(
    person_id: str = "8123456",
    *,
    language: str | None = "fr",
    email: str | None = "amina@example.org",
    phone: str | None = "+32470123456",
    postal_code: str | None = "1000",
    minor: bool = False,
    given_name: str = "Amina",
) -> PersonalData:
    """One household member's personal data."""
    address = (
        {
            "street": "Rue Haute",
            "house_number": "120",
            "postal_code": postal_code,
            "municipality": "Bruxelles",
        }
        if postal_code
        else None
    )
    contact: dict[str, Any] | None = {"email": email, "phone": phone, "postal_address": address}
    return PersonalData.model_validate(
        {
            "person_id": person_id,
            "given_name": given_name,
            "family_name": "Example",
            "is_minor": minor,
            "preferred_language": language,
            "contact": contact,
        }
    )


def invitation_sent(
    *members: PersonalData, channels: tuple[str, ...] = ("email",), **extra: Any
) -> InvitationSent:
    """An InvitationSent to the Brussels office."""
    data = {
        "household_id": str(HOUSEHOLD),
        "invitation_id": str(INVITATION),
        "region": "brussels",
        "office": "brussels",
        "entry_channel": "invitation_letter",
        "language": "fr",
        "appointment_at": APPOINTMENT.isoformat(),
        "channels": list(channels),
        "members": [m.model_dump(mode="json") for m in (members or (person(),))],
        "adults": 1,
        "minors": 0,
    }
    return InvitationSent.model_validate({**data, **extra})


def reminder(**extra: Any) -> InvitationReminderDue:
    return InvitationReminderDue.model_validate(
        {
            "household_id": str(HOUSEHOLD),
            "invitation_id": str(INVITATION),
            "appointment_at": APPOINTMENT.isoformat(),
            "office": "brussels",
            "language": "fr",
            "channels": ["sms"],
            "reminder_number": 1,
            **extra,
        }
    )


def rescheduled() -> InvitationRescheduled:
    return InvitationRescheduled(
        household_id=HOUSEHOLD,
        invitation_id=INVITATION,
        previous_appointment_at=APPOINTMENT,
        appointment_at=APPOINTMENT + timedelta(days=7, hours=4),
        office="liege",
        requested_by_person=True,
    )


def cancelled() -> InvitationCancelled:
    return InvitationCancelled(household_id=HOUSEHOLD, invitation_id=INVITATION, reason="already coached")


def outcome(kind: str, *, consent: bool | None = None, partner: str | None = None) -> OutcomeDecided:
    return OutcomeDecided.model_validate(
        {
            "household_id": str(HOUSEHOLD),
            "case_id": str(CASE),
            "decision_id": str(DECISION),
            "outcome": kind,
            "provenance": PROVENANCE,
            "communicated_in": "fr",
            "consent_to_referral": consent,
            "preferred_partner": partner,
        }
    )


def referred(*members: PersonalData, partner: str = "fedasil") -> ReferredToReturnPartner:
    return ReferredToReturnPartner.model_validate(
        {
            "household_id": str(HOUSEHOLD),
            "referral_id": str(REFERRAL),
            "case_id": str(CASE),
            "decision_id": str(DECISION),
            "partner": partner,
            "consent_recorded_at": APPOINTMENT.isoformat(),
            "language": "fr",
            "members": [
                m.model_dump(mode="json") for m in (members or (person(), person("8123457", minor=True)))
            ],
            "acknowledge_by": (APPOINTMENT + timedelta(days=7)).isoformat(),
        }
    )


def closed(reason: str = "lost_contact") -> TrajectoryClosed:
    return TrajectoryClosed.model_validate(
        {"household_id": str(HOUSEHOLD), "case_id": str(CASE), "reason": reason, "provenance": PROVENANCE}
    )


def household(*members: PersonalData, region: str = "brussels") -> Household:
    return Household(
        household_id=HOUSEHOLD,
        region=region,
        office="brussels",
        case_id=CASE,
        members=tuple(Recipient.from_personal_data(m) for m in (members or (person(),))),
    )


PARTNER = Recipient(
    kind=RecipientKind.RETURN_PARTNER,
    id="fedasil",
    name="Fedasil",
    email="referrals@fedasil.example",
    preferred_language=Language.FR,
)

TRIGGER_OF_KIND = {
    MessageKind.INVITATION: invitation_sent,
    MessageKind.REMINDER: reminder,
    MessageKind.RESCHEDULE: rescheduled,
    MessageKind.CANCELLATION: cancelled,
    MessageKind.OUTCOME_STAY_POSSIBLE: lambda: outcome("legal_stay_possible"),
    MessageKind.OUTCOME_RETURN_ACCEPTED: lambda: outcome("return_accepted", consent=True, partner="fedasil"),
    MessageKind.CONSEQUENCES: lambda: outcome("return_refused"),
    MessageKind.REFERRAL_PARTNER: referred,
    MessageKind.REFERRAL_PERSON: referred,
    MessageKind.CLOSURE: closed,
}


def facts(**extra: Any) -> Facts:
    """Facts for a Brussels household with a known invitation."""
    base: dict[str, Any] = {
        "reference": DEFAULT_REFERENCE_DATA,
        "contact": ContactInfo(),
        "household": household(),
        "today": date(2026, 3, 1),
        "invitation": InvitationFacts(
            invitation_id=INVITATION, office="brussels", appointment_at=APPOINTMENT
        ),
        "partner_name": "Fedasil",
    }
    return Facts(**{**base, **extra})


EMAIL = Channel.EMAIL


def recorded(event: Any, *, event_id: uuid.UUID | None = None, correlation_id: str | None = None) -> Any:
    """``event`` as the kernel hands it to a subscriber."""
    from icam_kernel.events import Actor, RecordedEvent

    now = datetime.now(UTC)
    return RecordedEvent(
        global_position=0,
        stream_id=event.key(),
        stream_version=1,
        event_id=event_id or uuid.uuid4(),
        event_type=event.event_type,
        event_version=event.event_version,
        data=event.model_dump(mode="json"),
        occurred_at=now,
        recorded_at=now,
        actor=Actor(id="coach-4711", role="coach", organisation="immigration_office"),
        correlation_id=correlation_id or str(event.household_id),
        causation_id=str(uuid.uuid4()),
    )
