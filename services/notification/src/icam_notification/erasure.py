"""What the notification service forgets when a person is erased: their contact details, the
messages as written to them (addresses, texts), the stored letters. What was sent, when, on which
channel and in which language stays — the delivery statistics do not change."""

from __future__ import annotations

from icam_contracts.events import PersonalDataErased
from icam_kernel.db import Connection
from icam_kernel.erasure import Purge
from icam_kernel.subject_data import StoreQuery

ERASED = "[erased]"


def _rows(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


async def delete_recipients(conn: Connection, erased: PersonalDataErased) -> int:
    return _rows(
        await conn.execute(
            "delete from recipients where person_id = any($1::text[]) or household_id = any($2::uuid[])",
            list(erased.person_ids),
            list(erased.household_ids),
        )
    )


async def delete_letters(conn: Connection, erased: PersonalDataErased) -> int:
    return _rows(
        await conn.execute(
            """delete from letters where notification_id in
                   (select notification_id from notifications where household_id = any($1::uuid[]))""",
            list(erased.household_ids),
        )
    )


async def blank_messages(conn: Connection, erased: PersonalDataErased) -> int:
    return _rows(
        await conn.execute(
            """update notifications set address = null, subject = $2, body = $2, sms = $2, last_error = null
               where household_id = any($1::uuid[]) and body <> $2""",
            list(erased.household_ids),
            ERASED,
        )
    )


PURGES = (
    Purge("recipients", delete_recipients),
    Purge("letters", delete_letters),
    Purge("notifications", blank_messages),
)

SUBJECT_DATA = (
    StoreQuery("recipients", "select * from recipients where person_id = $1 or household_id = any($2)"),
    StoreQuery(
        "notifications",
        "select notification_id, recipient_id, channel, template, language, status, address, subject, body, "
        "created_at, sent_at from notifications where household_id = any($2)",
    ),
    StoreQuery(
        "letters",
        "select l.notification_id, length(l.pdf) as bytes, l.created_at from letters l "
        "join notifications n using (notification_id) where n.household_id = any($2)",
    ),
)
