"""What the case service forgets when a person is erased, and what it shows a subject-access
export. The events, their copies from other services (`received_events`) and the outbox are
sealed: the destroyed keys already erased them. What is kept in clear is purged here."""

from __future__ import annotations

from icam_contracts.events import PersonalDataErased
from icam_kernel.db import Connection
from icam_kernel.erasure import Purge
from icam_kernel.subject_data import StoreQuery

_CASES = "select case_id from caseload where household_id = any($1::uuid[])"


def _rows(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


async def blank_search(conn: Connection, erased: PersonalDataErased) -> int:
    """The caseload's search text (members' names): gone; the row and its counts stay."""
    return _rows(
        await conn.execute(
            "update caseload set search = '' where household_id = any($1::uuid[]) and search <> ''",
            list(erased.household_ids),
        )
    )


async def delete_documents(conn: Connection, erased: PersonalDataErased) -> int:
    """The documents' contents (passport copies, certificates): deleted; their events keep kind and
    hash only."""
    return _rows(
        await conn.execute(
            f"delete from document_contents where case_id in ({_CASES})", list(erased.household_ids)
        )
    )


async def count_sealed_copies(conn: Connection, erased: PersonalDataErased) -> int:
    """Received facts are kept sealed: nothing to purge, the destroyed keys erased them. Counted
    so that the receipt says how many copies the erasure reached."""
    found = await conn.fetchval(
        "select count(*) from received_events where household_id = any($1::uuid[])",
        list(erased.household_ids),
    )
    return int(found)


PURGES = (
    Purge("caseload.search", blank_search),
    Purge("document_contents", delete_documents),
    Purge("received_events (sealed)", count_sealed_copies),
)

SUBJECT_DATA = (
    StoreQuery("caseload", "select * from caseload where household_id = any($2)"),
    StoreQuery("case_tasks", f"select * from case_tasks where case_id in ({_CASES.replace('$1', '$2')})"),
    StoreQuery(
        "documents",
        f"select document_id, case_id, stored_at, length(content) as bytes from document_contents "
        f"where case_id in ({_CASES.replace('$1', '$2')})",
    ),
)
