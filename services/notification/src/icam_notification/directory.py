"""The recipient directory: households, their members' contact details, and invitations.

Learnt from the events that carry ``PersonalData`` (InvitationSent, CaseOpened,
ReferredToReturnPartner, AppointmentRequested, WalkInRegistered) and from those that move a
household or an appointment. A later event that omits a detail never erases a known one.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from icam_contracts.base import Event
from icam_contracts.enums import Channel, Language, RecipientKind
from icam_contracts.events import (
    AppointmentRequested,
    CaseOpened,
    CaseTransferred,
    InvitationReminderDue,
    InvitationRescheduled,
    InvitationSent,
    ReferredToReturnPartner,
    WalkInRegistered,
)
from icam_contracts.personal_data import PersonalData, PostalAddress
from icam_kernel.db import Connection
from icam_notification.domain import Household, Recipient
from icam_notification.messages import InvitationFacts

_HOUSEHOLD = """
insert into households (household_id, region, office, case_id) values ($1, $2, $3, $4)
on conflict (household_id) do update set
    region = coalesce(excluded.region, households.region),
    office = coalesce(excluded.office, households.office),
    case_id = coalesce(excluded.case_id, households.case_id),
    updated_at = now()
"""
_MEMBER = """
insert into recipients (person_id, household_id, name, email, phone, postal_address, preferred_language,
                        is_minor)
values ($1, $2, $3, $4, $5, $6::jsonb, $7, coalesce($8, false))
on conflict (person_id) do update set
    household_id = excluded.household_id,
    name = coalesce(excluded.name, recipients.name),
    email = coalesce(excluded.email, recipients.email),
    phone = coalesce(excluded.phone, recipients.phone),
    postal_address = coalesce(excluded.postal_address, recipients.postal_address),
    preferred_language = coalesce(excluded.preferred_language, recipients.preferred_language),
    is_minor = coalesce($8, recipients.is_minor),
    updated_at = now()
"""
_INVITATION = """
insert into invitations (invitation_id, household_id, office, appointment_at, channels, person_ids)
values ($1, $2, $3, $4, $5, $6)
on conflict (invitation_id) do update set office = excluded.office, appointment_at = excluded.appointment_at,
    channels = excluded.channels, person_ids = excluded.person_ids
"""


async def _household(
    conn: Connection, household_id: UUID, region: str | None, office: str | None, case_id: UUID | None
) -> None:
    await conn.execute(_HOUSEHOLD, household_id, region, office, case_id)


async def _members(conn: Connection, household_id: UUID, members: Sequence[PersonalData]) -> None:
    rows = []
    for member in members:
        r = Recipient.from_personal_data(member)
        address = r.postal_address.model_dump_json() if r.postal_address else None
        language = r.preferred_language.value if r.preferred_language else None
        rows.append((r.id, household_id, r.name, r.email, r.phone, address, language, member.is_minor))
    await conn.executemany(_MEMBER, rows)


# the events `learn` takes facts from (with the triggers, all the service ever acts on)
LEARNED_FROM: frozenset[str] = frozenset({
    "InvitationSent", "CaseOpened", "ReferredToReturnPartner", "AppointmentRequested", "WalkInRegistered",
    "CaseTransferred", "InvitationRescheduled", "InvitationReminderDue",
})  # fmt: skip


async def learn(conn: Connection, event: Event) -> None:
    """Remember what ``event`` says about households, people and invitations."""
    match event:
        case InvitationSent():
            await _household(conn, event.household_id, event.region, event.office, None)
            await _members(conn, event.household_id, event.members)
            channels = [c.value for c in event.channels]
            ids = [m.person_id for m in event.members]
            await conn.execute(
                _INVITATION,
                event.invitation_id,
                event.household_id,
                event.office,
                event.appointment_at,
                channels,
                ids,
            )
        case CaseOpened():
            await _household(conn, event.household_id, event.region, event.office, event.case_id)
            await _members(conn, event.household_id, event.members)
        case ReferredToReturnPartner():
            await _household(conn, event.household_id, None, None, event.case_id)
            await _members(conn, event.household_id, event.members)
        case AppointmentRequested() | WalkInRegistered():
            await _household(conn, event.household_id, event.region, None, None)
            await _members(conn, event.household_id, event.members)
        case CaseTransferred():
            await _household(conn, event.household_id, event.to_region, event.to_office, event.case_id)
        case InvitationRescheduled() | InvitationReminderDue():
            await conn.execute(
                "update invitations set appointment_at = $2, office = $3 where invitation_id = $1",
                event.invitation_id,
                event.appointment_at,
                event.office,
            )


def _recipient(row: object) -> Recipient:
    r = dict(row)  # type: ignore[call-overload]
    address = PostalAddress.model_validate_json(r["postal_address"]) if r["postal_address"] else None
    return Recipient(
        kind=RecipientKind.PERSON,
        id=r["person_id"],
        name=r["name"],
        email=r["email"],
        phone=r["phone"],
        postal_address=address,
        preferred_language=Language(r["preferred_language"]) if r["preferred_language"] else None,
        is_minor=bool(r["is_minor"]),
    )


async def load_household(conn: Connection, household_id: UUID, person_ids: Sequence[str] = ()) -> Household:
    """The household with its members (only ``person_ids`` when given)."""
    row = await conn.fetchrow("select * from households where household_id = $1", household_id)
    members = await conn.fetch(
        """select person_id, name, email, phone, postal_address::text as postal_address, preferred_language,
                  is_minor from recipients
           where household_id = $1 and (cardinality($2::text[]) = 0 or person_id = any($2))
           order by person_id""",
        household_id,
        list(person_ids),
    )
    return Household(
        household_id=household_id,
        region=row["region"] if row else None,
        office=row["office"] if row else None,
        case_id=row["case_id"] if row else None,
        members=tuple(_recipient(m) for m in members),
    )


async def load_recipient(conn: Connection, person_id: str) -> Recipient | None:
    """One person's contact details, if known."""
    row = await conn.fetchrow(
        """select person_id, name, email, phone, postal_address::text as postal_address, preferred_language,
                  is_minor from recipients where person_id = $1""",
        person_id,
    )
    return _recipient(row) if row else None


async def load_invitation(
    conn: Connection, invitation_id: UUID
) -> tuple[InvitationFacts, tuple[Channel, ...]] | None:
    """What we know of an invitation, and the channels it was sent on."""
    row = await conn.fetchrow("select * from invitations where invitation_id = $1", invitation_id)
    if row is None:
        return None
    facts = InvitationFacts(
        invitation_id=invitation_id, office=row["office"], appointment_at=row["appointment_at"]
    )
    return facts, tuple(Channel(c) for c in row["channels"])
