"""How a service forgets an erased person: its purge table, run once per erasure, and its report.

When `PersonalDataErased` arrives, the person's keys are already destroyed (the privacy service
did it before announcing): every sealed copy in this service's store, inbox copies, outbox and
dead letters is unreadable. What remains is what the service keeps **in clear** — read models,
rendered letters, caches. Each service lists those stores as rows of its purge table:

    runtime.forget_erased(
        CaseDataPurged,
        Purge("caseload", blank_caseload),          # (conn, erased) -> rows purged or blanked
        Purge("documents", delete_documents),
    )

The kernel adds its own rows (dead letters, idempotency records) and runs them all in the inbox
transaction together with the service's report (`<Service>DataPurged`, one stream per erasure),
so a purge is done exactly once and reported exactly when it is done; a crash in between rolls
both back and the redelivery does it again. The privacy service builds the receipt from the
reports.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from icam_contracts.events import PersonalDataErased, PurgedStore
from icam_contracts.events.privacy import _DataPurged
from icam_kernel.application import Plan
from icam_kernel.db import Connection
from icam_kernel.decider import Aggregate
from icam_kernel.events import RecordedEvent
from icam_kernel.reactions import When

PurgeFn = Callable[[Connection, PersonalDataErased], Awaitable[int]]


@dataclass(frozen=True)
class Purge:
    """One store this service keeps personal data in clear, and how it forgets an erased person."""

    store: str
    run: PurgeFn


# One stream per erasure in each service: its report, appended once.
REPORT = Aggregate("purge_report", False, lambda _reported, _event, _at: True, lambda reported: reported)


def _rows_purged(status: str) -> int:
    """`DELETE 3` / `UPDATE 2` → 3 / 2."""
    return int(status.rsplit(" ", 1)[-1]) if status and status[-1].isdigit() else 0


async def purge_dead_letters(conn: Connection, erased: PersonalDataErased) -> int:
    """Dead letters of the erased persons' households: unreadable already, of no use any more."""
    needles = [str(h) for h in erased.household_ids] + list(erased.person_ids)
    status = await conn.execute(
        "delete from dead_letters where value like any (select '%' || n || '%' from unnest($1::text[]) n)",
        needles,
    )
    return _rows_purged(status)


async def purge_idempotency_records(conn: Connection, erased: PersonalDataErased) -> int:
    """Stored command results about the erased households (a retry after erasure is refused)."""
    status = await conn.execute(
        "delete from idempotency_keys where result->>'household_id' = any($1::text[])",
        [str(h) for h in erased.household_ids],
    )
    return _rows_purged(status)


KERNEL_PURGES: tuple[Purge, ...] = (
    Purge("dead_letters", purge_dead_letters),
    Purge("idempotency_keys", purge_idempotency_records),
)


def erasure_row(
    service: str,
    report: type[_DataPurged],
    purges: Sequence[Purge],
    forget: Callable[[PersonalDataErased], None] = lambda _erased: None,
) -> When[bool, PersonalDataErased]:
    """The reaction row to `PersonalDataErased`: purge every store, then report what was purged."""

    async def plan(conn: Connection, erased: PersonalDataErased, _recorded: RecordedEvent) -> Plan[bool]:
        forget(erased)  # process caches first: nothing opened from them after this point
        counts = [PurgedStore(store=p.store, rows=await p.run(conn, erased)) for p in purges]
        done = report(
            household_id=erased.household_id,
            erasure_id=erased.erasure_id,
            service=service,
            stores=tuple(counts),
            purged_at=datetime.now(UTC),
        )
        return Plan(f"erasure-{erased.erasure_id}", lambda reported: [] if reported else [done], False)

    return When(PersonalDataErased, REPORT, plan)
