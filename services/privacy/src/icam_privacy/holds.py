"""The holds read model, kept in the transaction of the hold's events; a release puts the
household's retention back on the clock (at once when its period already passed)."""

from __future__ import annotations

from icam_contracts.events import RetentionHoldPlaced, RetentionHoldReleased
from icam_kernel.application import Application
from icam_kernel.db import Connection
from icam_privacy.retention import Retention, held


def install(application: Application, retention: Retention) -> None:
    async def placed(conn: Connection, hold: RetentionHoldPlaced) -> None:
        await conn.execute(
            """insert into holds (hold_id, household_id, basis, order_reference, placed_by, placed_at)
               values ($1, $2, $3, $4, $5, now())""",
            hold.hold_id,
            hold.household_id,
            hold.basis,
            hold.order_reference,
            hold.placed_by,
        )

    async def released(conn: Connection, release: RetentionHoldReleased) -> None:
        await conn.execute("update holds set released_at = now() where hold_id = $1", release.hold_id)
        if not await held(conn, release.household_id):
            await retention.resume(conn, release.household_id)

    application.after("RetentionHoldPlaced", placed)
    application.after("RetentionHoldReleased", released)
