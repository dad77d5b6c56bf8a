"""Retention: a household's personal data is erased once its period has passed — after its
trajectory closed, or after its last contact when no case ever opened — unless a legal hold keeps
it. A durable timer per household and due date; when it fires the period is checked again (a new
contact, a reopened case or a hold since then moves or stops it), so the timer is never wrong."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from icam_contracts.enums import ErasureBasis
from icam_kernel import timers
from icam_kernel.application import Application, Cause, Plan
from icam_kernel.db import Connection
from icam_kernel.timers import Timer
from icam_privacy import erasures
from icam_privacy.domain import ERASURE, erase

KIND = "retention"
BY = "retention"
_NS = uuid.UUID("5c0b8f3e-6a2d-4e71-9b8c-0d1e2f3a4b5c")


def due_of(row: Any, *, closed: timedelta, unanswered: timedelta) -> datetime | None:
    """When a household's period ends: closure + `closed`, or last contact + `unanswered` for a
    household that never had a case; None while a case is open (its closure will say)."""
    if row["erased_at"] is not None or row["case_open"]:
        return None
    if row["closed_at"] is not None:
        return row["closed_at"] + closed  # type: ignore[no-any-return]
    return row["last_contact_at"] + unanswered  # type: ignore[no-any-return]


class Retention:
    def __init__(self, application: Application, closed: timedelta, unanswered: timedelta) -> None:
        self.application, self.closed, self.unanswered = application, closed, unanswered

    async def _due(self, conn: Connection, household_id: uuid.UUID) -> datetime | None:
        row = await conn.fetchrow("select * from households where household_id = $1", household_id)
        return None if row is None else due_of(row, closed=self.closed, unanswered=self.unanswered)

    async def schedule(self, conn: Connection, household_id: uuid.UUID, at: datetime | None = None) -> None:
        """A timer at the household's due date (or `at`), once per household and date."""
        due = at or await self._due(conn, household_id)
        if due is not None:
            timer_id = uuid.uuid5(_NS, f"{household_id}:{due.isoformat()}")
            await timers.schedule(conn, KIND, due, {"household_id": str(household_id)}, timer_id=timer_id)

    async def resume(self, conn: Connection, household_id: uuid.UUID) -> None:
        """After a hold's release: the clock again, at once when the period passed meanwhile (the
        timer of the due date fired under the hold, so a new one fires now)."""
        due = await self._due(conn, household_id)
        if due is not None:
            await self.schedule(conn, household_id, max(due, datetime.now(UTC)))

    async def on_due(self, conn: Connection, timer: Timer) -> None:
        """The period may have passed: erase the household's persons unless something moved it."""
        household_id = uuid.UUID(timer.payload["household_id"])
        due = await self._due(conn, household_id)
        if due is None or await held(conn, household_id):
            return  # a case is open, it is erased already, or a hold keeps it (its release reschedules)
        if due > timer.due_at:
            await self.schedule(conn, household_id, due)
            return
        persons = await self._persons_due(conn, household_id, timer.due_at)
        if persons:
            await self._erase(conn, household_id, persons, timer)
        await conn.execute("update households set erased_at = now() where household_id = $1", household_id)

    async def _persons_due(self, conn: Connection, household_id: uuid.UUID, now: datetime) -> list[str]:
        """The members whose every household is past its period (someone still coached elsewhere
        keeps their data until that household's period ends too)."""
        rows = await conn.fetch(
            """select m.person_id, h.* from household_members m
               join household_members other on other.person_id = m.person_id
               join households h on h.household_id = other.household_id
               where m.household_id = $1 order by m.person_id""",
            household_id,
        )
        blocked = {
            r["person_id"]
            for r in rows
            if r["household_id"] != household_id
            and ((d := due_of(r, closed=self.closed, unanswered=self.unanswered)) is None or d > now)
            and r["erased_at"] is None
        }
        return sorted({r["person_id"] for r in rows} - blocked)

    async def _erase(
        self, conn: Connection, household_id: uuid.UUID, persons: list[str], timer: Timer
    ) -> None:
        erasure_id = uuid.uuid5(_NS, f"erasure:{household_id}")
        order = await erasures.order_for(
            conn, persons, ErasureBasis.RETENTION_ELAPSED, BY, None, timer.due_at, erasure_id
        )
        plan: Plan[bool] = Plan(str(erasure_id), lambda given: erase(given, order), requires_existing=False)
        await self.application.react(conn, ERASURE, plan, Cause.of_timer(timer.id))


async def held(conn: Connection, household_id: uuid.UUID) -> bool:
    found = await conn.fetchval(
        "select 1 from holds where household_id = $1 and released_at is null limit 1", household_id
    )
    return found is not None
