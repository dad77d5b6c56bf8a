"""What the invitation service forgets when a person is erased: the duplicate-detection index
(names, birth dates) — everything else it keeps is sealed or holds no personal data."""

from __future__ import annotations

from icam_contracts.events import PersonalDataErased
from icam_kernel.db import Connection
from icam_kernel.erasure import Purge
from icam_kernel.subject_data import StoreQuery


async def delete_people(conn: Connection, erased: PersonalDataErased) -> int:
    """The erased persons, and every member of their households (the household's index rows)."""
    status = await conn.execute(
        "delete from people where person_id = any($1::text[]) or household_id = any($2::uuid[])",
        list(erased.person_ids),
        list(erased.household_ids),
    )
    return int(status.rsplit(" ", 1)[-1])


PURGES = (Purge("people", delete_people),)

SUBJECT_DATA = (
    StoreQuery("people", "select * from people where person_id = $1 or household_id = any($2)"),
    StoreQuery("invitations", "select * from invitations where household_id = any($2)"),
    StoreQuery("appointment_requests", "select * from appointment_requests where household_id = any($2)"),
    StoreQuery("desk_visits", "select * from desk_visits where household_id = any($2)"),
)
