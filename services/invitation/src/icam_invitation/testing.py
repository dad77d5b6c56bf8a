"""Builders for tests of the invitation service (and of services that consume its events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

from icam_contracts.enums import Channel
from icam_contracts.personal_data import ContactDetails, PersonalData, PostalAddress
from icam_contracts.reference import DEFAULT_REFERENCE_DATA
from icam_invitation.domain import SchedulingPolicy, SendInvitation
from icam_invitation.domain.calendar import BRUSSELS
from icam_invitation.domain.offices import office_finder

OFFICES = office_finder(DEFAULT_REFERENCE_DATA)
POLICY = SchedulingPolicy()


def at(text: str) -> datetime:
    """A Brussels wall-clock time, e.g. ``at("2026-03-04 10:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=BRUSSELS)


def adult(postal_code: str | None = "1000", country: str = "BE", **extra: Any) -> PersonalData:
    address = (
        PostalAddress(
            street="Rue Haute", house_number="1", postal_code=postal_code, municipality="X", country=country
        )
        if postal_code
        else None
    )
    return PersonalData(
        person_id=extra.pop("person_id", "8123456"),
        is_minor=False,
        contact=ContactDetails(postal_address=address, email="a@example.org"),
        **extra,
    )


def minor() -> PersonalData:
    return PersonalData(person_id="8123457", is_minor=True)


def send_command(appointment_at: datetime, **overrides: Any) -> SendInvitation:
    values: dict[str, Any] = {
        "invitation_id": uuid4(),
        "household_id": uuid4(),
        "members": (adult(),),
        "channels": (Channel.POSTAL_LETTER,),
        "appointment_at": appointment_at,
        "coach_id": "coach-1",
    }
    values.update(overrides)
    return SendInvitation(**values)
