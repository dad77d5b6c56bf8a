"""Who a message can be addressed to, and how they can be reached.

The notification service learns people's contact details from the events that carry
``PersonalData`` and keeps only what it needs to write to them (no birth dates, nationality or
vulnerabilities).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from icam_contracts.enums import Language, RecipientKind
from icam_contracts.personal_data import PersonalData, PostalAddress


@dataclass(frozen=True)
class Recipient:
    """A person (by dossier reference) or a return partner (by code), with contact details."""

    kind: RecipientKind
    id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    postal_address: PostalAddress | None = None
    preferred_language: Language | None = None
    is_minor: bool = False

    @classmethod
    def from_personal_data(cls, person: PersonalData) -> Recipient:
        """The recipient described by one member's personal data."""
        contact = person.contact
        names = [n for n in (person.given_name, person.family_name) if n]
        return cls(
            kind=RecipientKind.PERSON,
            id=person.person_id,
            name=" ".join(names) or None,
            email=contact.email if contact else None,
            phone=contact.phone if contact else None,
            postal_address=contact.postal_address if contact else None,
            preferred_language=person.preferred_language,
            is_minor=bool(person.is_minor),
        )

    def merged_with(self, newer: Recipient) -> Recipient:
        """``newer``'s details where it has them, ours where it has none (partial events)."""
        return Recipient(
            kind=self.kind,
            id=self.id,
            name=newer.name or self.name,
            email=newer.email or self.email,
            phone=newer.phone or self.phone,
            postal_address=newer.postal_address or self.postal_address,
            preferred_language=newer.preferred_language or self.preferred_language,
            is_minor=newer.is_minor or self.is_minor,
        )

    @property
    def postal_code(self) -> str | None:
        """Postal code of the address letters go to, if any."""
        return self.postal_address.postal_code if self.postal_address else None


@dataclass(frozen=True)
class Household:
    """A household as the notification service knows it: region, members, case."""

    household_id: UUID
    region: str | None = None
    office: str | None = None
    case_id: UUID | None = None
    members: tuple[Recipient, ...] = field(default_factory=tuple)


def addressees(members: Sequence[Recipient]) -> tuple[Recipient, ...]:
    """Whom to write to: the adults of the household; every member when none is an adult
    (an unaccompanied minor is still told, in a letter their guardian will read)."""
    adults = tuple(m for m in members if not m.is_minor)
    return adults or tuple(members)
