"""Durable timers: "record a no-show if nobody came by the end of the grace period".

`schedule` writes a row in the caller's transaction (so a timer exists exactly when the command's
events do). `TimerWorker` polls due rows with `FOR UPDATE SKIP LOCKED`, runs the handler and marks
the row fired in one transaction: a timer fires once across replicas and survives restarts.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import structlog

from icam_kernel.db import Connection
from icam_kernel.observability import TIMERS_FIRED

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Timer:
    id: uuid.UUID
    kind: str
    due_at: datetime
    payload: dict[str, Any]


TimerHandler = Callable[[Connection, Timer], Awaitable[None]]

_DUE = """
select id, kind, due_at, payload::text as payload from timers
where fired_at is null and due_at <= now() order by due_at limit 1 for update skip locked
"""


async def schedule(
    conn: Connection,
    kind: str,
    due_at: datetime,
    payload: dict[str, Any],
    *,
    timer_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Schedule a timer; giving a deterministic `timer_id` makes scheduling idempotent."""
    timer_id = timer_id or uuid.uuid4()
    await conn.execute(
        """insert into timers (id, kind, due_at, payload) values ($1, $2, $3, $4)
           on conflict (id) do nothing""",
        timer_id,
        kind,
        due_at,
        json.dumps(payload),
    )
    return timer_id


async def cancel(conn: Connection, timer_id: uuid.UUID) -> bool:
    """Cancel a timer that has not fired; True when there was one."""
    status = await conn.execute("delete from timers where id = $1 and fired_at is null", timer_id)
    return status.endswith(" 1")


class TimerWorker:
    """Fires due timers with their kind's handler; run one per replica."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        handlers: Mapping[str, TimerHandler],
        *,
        poll_interval: float = 0.5,
        retry_delay: timedelta = timedelta(seconds=30),
    ) -> None:
        self.pool, self.handlers = pool, dict(handlers)
        self.poll_interval = poll_interval
        self.retry_delay = retry_delay

    async def fire_one(self) -> bool:
        """Fire the most overdue timer, if any; True when one was taken."""
        row: asyncpg.Record | None = None
        async with self.pool.acquire() as conn:
            try:
                async with conn.transaction():
                    row = await conn.fetchrow(_DUE)
                    if row is None:
                        return False
                    timer = Timer(row["id"], row["kind"], row["due_at"], json.loads(row["payload"]))
                    handler = self.handlers.get(timer.kind)
                    if handler is None:
                        raise LookupError(f"no handler for timer kind {timer.kind!r}")
                    await handler(conn, timer)
                    await conn.execute("update timers set fired_at = now() where id = $1", timer.id)
            except Exception as error:
                if row is None:
                    raise
                log.error("timer_failed", timer_id=str(row["id"]), kind=row["kind"], error=str(error))
                await conn.execute(
                    "update timers set due_at = now() + $2 where id = $1", row["id"], self.retry_delay
                )
                return True
        TIMERS_FIRED.labels(timer.kind).inc()
        return True

    async def run_due(self) -> int:
        """Fire every timer due now; return how many were taken."""
        fired = 0
        while await self.fire_one():
            fired += 1
        return fired

    async def run(self) -> None:
        while True:
            await self.run_due()
            await asyncio.sleep(self.poll_interval)


async def cancel_matching(conn: Connection, kinds: Collection[str], key: str, value: str) -> int:
    """Cancel every pending timer of `kinds` whose payload's `key` is `value` (all the timers of
    one invitation, say); one that is firing right now (due) is left to finish. Returns how many."""
    status = await conn.execute(
        """delete from timers where fired_at is null and due_at > now() and kind = any($1::text[])
           and payload->>$2 = $3""",
        list(kinds),
        key,
        value,
    )
    return int(status.split()[-1])
