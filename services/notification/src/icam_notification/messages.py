"""What a message says: the template context for each message kind, from the triggering event.

Contexts are language-neutral (dates stay dates); templates format them in their language.
Every context has the common keys of ``_common``; each kind adds its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from icam_contracts.base import Event
from icam_contracts.events import (
    InvitationCancelled,
    InvitationReminderDue,
    InvitationRescheduled,
    InvitationSent,
    OutcomeDecided,
    ReferredToReturnPartner,
    TrajectoryClosed,
)
from icam_contracts.reference import ReferenceData
from icam_notification.domain import Household, MessageKind, Recipient


@dataclass(frozen=True)
class ContactInfo:
    """How people reach ATD, and where the offices are (addresses the reference data lacks)."""

    email: str = "icamsupport@ibz.fgov.be"
    phone: str = "02/488.97.77"
    office_addresses: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class InvitationFacts:
    """What the service remembers of an invitation, for notices that do not repeat it."""

    invitation_id: UUID
    office: str
    appointment_at: datetime | None


@dataclass(frozen=True)
class Facts:
    """Everything a context may draw on besides the event."""

    reference: ReferenceData
    contact: ContactInfo
    household: Household
    today: date
    invitation: InvitationFacts | None = None
    partner_name: str | None = None


def reference_code(prefix: str, value: UUID | None) -> str:
    """A short reference a person can quote on the phone: ``INV-7C9E6679``."""
    return f"{prefix}-{str(value)[:8].upper()}" if value else prefix


def office_context(code: str | None, reference: ReferenceData, contact: ContactInfo) -> dict[str, Any] | None:
    """City and street address of an office: configured, else its walk-in desk's, else none."""
    if not code:
        return None
    office = reference.office(code)
    if office is None:  # an office the reference data does not know yet: name it by its code
        return {"code": code, "city": code, "address": contact.office_addresses.get(code)}
    address = contact.office_addresses.get(office.code) or getattr(office, "address", None)
    desk = next((d for d in reference.desks if d.office == office.code), None)
    if address is None and desk is not None:
        address = f"{desk.address}, {desk.postal_code} {desk.municipality}"
    return {"code": office.code, "city": office.city, "address": address}


def _desks(facts: Facts) -> list[dict[str, Any]]:
    return [
        {
            "city": d.municipality,
            "address": f"{d.address}, {d.postal_code} {d.municipality}",
            "weekday": d.weekday,
            "opens": d.opens.strftime("%H:%M"),
            "closes": d.closes.strftime("%H:%M"),
        }
        for d in facts.reference.desks
    ]


def _common(recipient: Recipient, facts: Facts, reference: str) -> dict[str, Any]:
    return {
        "recipient_name": recipient.name,
        "reference": reference,
        "atd": {"email": facts.contact.email, "phone": facts.contact.phone},
        "desks": _desks(facts),
        "letter_date": facts.today,
        "office": office_context(facts.household.office, facts.reference, facts.contact),
    }


def _specific(event: Event, facts: Facts) -> tuple[str, dict[str, Any]]:
    """(reference to quote, kind-specific keys) for ``event``."""
    match event:
        case InvitationSent():
            ref = reference_code("INV", event.invitation_id)
            return ref, {
                "appointment_at": event.appointment_at,
                "office": office_context(event.office, facts.reference, facts.contact),
            }
        case InvitationReminderDue():
            return reference_code("INV", event.invitation_id), {
                "appointment_at": event.appointment_at,
                "office": office_context(event.office, facts.reference, facts.contact),
            }
        case InvitationRescheduled():
            return reference_code("INV", event.invitation_id), {
                "appointment_at": event.appointment_at,
                "previous_appointment_at": event.previous_appointment_at,
                "office": office_context(event.office, facts.reference, facts.contact),
                "requested_by_person": event.requested_by_person,
            }
        case InvitationCancelled():
            known = facts.invitation
            return reference_code("INV", event.invitation_id), {
                "appointment_at": known.appointment_at if known else None,
                "office": office_context(known.office, facts.reference, facts.contact) if known else None,
            }
        case OutcomeDecided():
            return reference_code("CASE", event.case_id), {
                "consent_to_referral": bool(event.consent_to_referral),
                "partner_name": _partner_name(event.preferred_partner, facts),
            }
        case ReferredToReturnPartner():
            return reference_code("REF", event.referral_id), _referral(event, facts)
        case TrajectoryClosed():
            return reference_code("CASE", event.case_id), {"closure_reason": event.reason.value}
    return reference_code("ICAM", facts.household.household_id), {}


def _partner_name(code: str | None, facts: Facts) -> str | None:
    partner = facts.reference.partner(code or "")
    return partner.name if partner else code


def _referral(event: ReferredToReturnPartner, facts: Facts) -> dict[str, Any]:
    minors = sum(1 for m in event.members if m.is_minor)
    return {
        "partner_name": _partner_name(event.partner, facts) or event.partner,
        "referral_reference": reference_code("REF", event.referral_id),
        "case_reference": reference_code("CASE", event.case_id),
        "adults": len(event.members) - minors,
        "minors": minors,
        "household_language": event.language.value,
        "acknowledge_by": event.acknowledge_by,
    }


def message_context(kind: MessageKind, event: Event, recipient: Recipient, facts: Facts) -> dict[str, Any]:
    """The template context of ``kind`` caused by ``event``, for ``recipient``."""
    reference, specific = _specific(event, facts)
    context = _common(recipient, facts, reference)
    context.update(specific)
    context["kind"] = kind.value
    return context
