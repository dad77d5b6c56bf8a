"""Households and their members as the privacy service knows them (references only), from the
invitation and case topics; each contact or closure (re)starts the household's retention clock."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from icam_contracts.base import Event
from icam_contracts.events import (
    AppointmentRequested,
    CaseOpened,
    HouseholdMemberAdded,
    InvitationSent,
    TrajectoryClosed,
    WalkInRegistered,
)
from icam_kernel.db import Connection
from icam_kernel.events import RecordedEvent
from icam_kernel.reactions import Remember
from icam_privacy.retention import Retention

_CONTACT = """
insert into households (household_id, first_seen_at, last_contact_at) values ($1, $2, $2)
on conflict (household_id) do update set last_contact_at = greatest(households.last_contact_at, $2)
"""


async def _members(conn: Connection, household_id: uuid.UUID, person_ids: list[str]) -> None:
    await conn.executemany(
        "insert into household_members (household_id, person_id) values ($1, $2) on conflict do nothing",
        [(household_id, p) for p in person_ids],
    )


class Households:
    """The `Remember` rows that keep households, members and the retention clock."""

    def __init__(self, retention: Retention) -> None:
        self.retention = retention

    async def contact(self, conn: Connection, event: Event, recorded: RecordedEvent) -> None:
        """A first contact (invitation, request, walk-in): members known, the clock restarts."""
        await conn.execute(_CONTACT, event.household_id, recorded.occurred_at)
        await _members(conn, event.household_id, [m.person_id for m in getattr(event, "members", ())])
        await self.retention.schedule(conn, event.household_id)

    async def opened(self, conn: Connection, event: CaseOpened, recorded: RecordedEvent) -> None:
        await conn.execute(_CONTACT, event.household_id, recorded.occurred_at)
        await conn.execute(
            "update households set case_open = true where household_id = $1", event.household_id
        )
        await _members(conn, event.household_id, [m.person_id for m in event.members])

    async def member_added(self, conn: Connection, event: HouseholdMemberAdded, _r: RecordedEvent) -> None:
        await _members(conn, event.household_id, [event.member.person_id])

    async def closed(self, conn: Connection, event: TrajectoryClosed, recorded: RecordedEvent) -> None:
        closed_at: datetime = recorded.occurred_at
        await conn.execute(
            "update households set case_open = false, closed_at = $2 where household_id = $1",
            event.household_id,
            closed_at,
        )
        await self.retention.schedule(conn, event.household_id)

    def rows(self) -> list[Remember[Any]]:
        return [
            Remember(InvitationSent, self.contact),
            Remember(AppointmentRequested, self.contact),
            Remember(WalkInRegistered, self.contact),
            Remember(CaseOpened, self.opened),
            Remember(HouseholdMemberAdded, self.member_added),
            Remember(TrajectoryClosed, self.closed),
        ]
