"""Erasure, around the pure order: gather what it destroys, destroy it in the order's transaction,
and answer with the receipt — what was erased where, with counts and times, kept for the auditor.

The order and the destruction of the keys commit together (the `after` policy below), so once
`PersonalDataErased` exists the persons are unreadable everywhere; the services' purge reports
arrive afterwards and complete the receipt.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from icam_contracts.enums import ErasureBasis
from icam_contracts.events import PersonalDataErased
from icam_kernel.application import Application
from icam_kernel.db import Connection
from icam_kernel.events import RecordedEvent
from icam_kernel.keyring import household_subject, person_subject
from icam_privacy import keys
from icam_privacy.domain import ErasureOrder
from icam_privacy.domain.errors import AlreadyErased, UnknownPerson

SERVICE = "privacy"


async def households_of(conn: Connection, person_ids: Collection[str]) -> list[uuid.UUID]:
    rows = await conn.fetch(
        "select distinct household_id from household_members where person_id = any($1) order by 1",
        list(person_ids),
    )
    return [r["household_id"] for r in rows]


async def earlier_erasure(conn: Connection, person_ids: Collection[str]) -> uuid.UUID | None:
    found = await conn.fetchval(
        "select erasure_id from erased_persons where person_id = any($1) limit 1", list(person_ids)
    )
    return found if isinstance(found, uuid.UUID) else None


def subjects_of(person_ids: Collection[str], household_ids: Collection[uuid.UUID]) -> list[str]:
    return [*(person_subject(p) for p in person_ids), *(household_subject(h) for h in household_ids)]


async def order_for(
    conn: Connection,
    person_ids: Sequence[str],
    basis: ErasureBasis,
    by: str,
    reference: str | None,
    at: datetime,
    erasure_id: uuid.UUID | None = None,
) -> ErasureOrder:
    """The order for these persons: every household they belong to, every live key. Refused for a
    person nobody knows (404) or already erased (409, naming the first erasure)."""
    if (first := await earlier_erasure(conn, person_ids)) is not None:
        raise AlreadyErased(
            "this person was erased before", erasure_id=str(first), receipt=f"/erasures/{first}"
        )
    households = await households_of(conn, person_ids)
    if not households:
        raise UnknownPerson()
    key_ids = await keys.live_key_ids(conn, subjects_of(person_ids, households))
    return ErasureOrder(
        erasure_id or uuid.uuid4(),
        tuple(person_ids),
        tuple(households),
        tuple(key_ids),
        basis,
        by,
        reference,
        at,
    )


async def destroy_and_record(conn: Connection, erased: PersonalDataErased) -> None:
    """In the order's transaction: destroy the keys, mark the persons erased, keep the receipt's
    first lines (what the privacy service itself erased)."""
    destroyed = await keys.destroy(conn, subjects_of(erased.person_ids, erased.household_ids))
    await conn.execute(
        """insert into erasures (erasure_id, person_ids, household_ids, key_ids, keys_destroyed, legal_basis,
               ordered_by, order_reference, erased_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        erased.erasure_id,
        list(erased.person_ids),
        list(erased.household_ids),
        list(erased.key_ids),
        destroyed,
        erased.legal_basis.value,
        erased.ordered_by,
        erased.order_reference,
        erased.erased_at,
    )
    await conn.executemany(
        "insert into erased_persons (person_id, erasure_id) values ($1, $2)",
        [(p, erased.erasure_id) for p in erased.person_ids],
    )
    members = await conn.execute(
        "delete from household_members where person_id = any($1)", list(erased.person_ids)
    )
    await _report(conn, erased, {"data_keys": destroyed, "household_members": _count(members)})


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


async def _report(conn: Connection, erased: PersonalDataErased, stores: dict[str, int]) -> None:
    await conn.executemany(
        """insert into erasure_reports (erasure_id, service, store, rows, purged_at)
           values ($1, $2, $3, $4, now()) on conflict do nothing""",
        [(erased.erasure_id, SERVICE, store, rows) for store, rows in stores.items()],
    )


def install(application: Application) -> None:
    application.after("PersonalDataErased", destroy_and_record)


async def receipt(conn: Connection, erasure_id: uuid.UUID, reporting: Sequence[str]) -> dict[str, Any] | None:
    """The receipt: the order, the keys destroyed, every service's stores with counts and times,
    and which services have not reported yet (`complete` once all have)."""
    order = await conn.fetchrow("select * from erasures where erasure_id = $1", erasure_id)
    if order is None:
        return None
    rows = await conn.fetch(
        "select service, store, rows, purged_at from erasure_reports where erasure_id = $1 order by 1, 2",
        erasure_id,
    )
    reported = {r["service"] for r in rows}
    awaiting = [s for s in reporting if s not in reported]
    return {
        **{k: order[k] for k in ("erasure_id", "legal_basis", "ordered_by", "order_reference", "erased_at")},
        "person_ids": list(order["person_ids"]),
        "household_ids": list(order["household_ids"]),
        "keys_destroyed": order["keys_destroyed"],
        "status": "complete" if not awaiting else "in_progress",
        "awaiting": awaiting,
        "stores": [dict(r) for r in rows],
    }


async def remember_report(conn: Connection, report: Any, _recorded: RecordedEvent) -> None:
    """A service's purge report (`<Service>DataPurged`): its lines of the receipt."""
    await conn.executemany(
        """insert into erasure_reports (erasure_id, service, store, rows, purged_at)
           values ($1, $2, $3, $4, $5) on conflict do nothing""",
        [(report.erasure_id, report.service, s.store, s.rows, report.purged_at) for s in report.stores],
    )
