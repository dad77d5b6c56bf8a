"""Durable timers: "record a no-show if nobody came by the end of the grace period".

`schedule` writes a row in the caller's transaction (so a timer exists exactly when the command's
events do). `TimerWorker` polls due rows with `FOR UPDATE SKIP LOCKED`, runs the handler and marks
the row fired in one transaction: a timer fires once across replicas and survives restarts.

A handler that fails for reasons of its own puts its timer off by `retry_delay`; an outage of the
database (`failures.is_transient`) changes nothing and escapes, so that the supervisor restarts the
worker with backoff and the timer fires once the database is back. A timer being fired holds its
row's lock until its handler's transaction ends; `cancel` skips such a row instead of waiting for
it (a command that cancels under its stream's lock would otherwise wait for a handler that waits
for that lock): the handler then decides on the state the command left. With tracing on, a
handler runs in the root span of a trace of its own (`timer <kind>`), which what it appends carries.
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

from icam_kernel import tracing
from icam_kernel.db import Connection
from icam_kernel.failures import describe, is_transient
from icam_kernel.observability import TIMERS_FIRED, TIMERS_OVERDUE, TIMERS_OVERDUE_SECONDS

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
_OVERDUE = """
select kind, count(*) as due, coalesce(extract(epoch from now() - min(due_at)), 0)::float8 as age
from timers where fired_at is null and due_at <= now() group by kind
"""
_CANCEL = """
delete from timers where id = (
    select id from timers where id = $1 and fired_at is null for update skip locked)
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
    """Cancel a timer that has not fired; True when there was one. A timer firing right now is
    not waited for (False): its handler runs after the caller's transaction and sees its effect."""
    status = await conn.execute(_CANCEL, timer_id)
    return status.endswith(" 1")


class TimerWorker:
    """Fires due timers with their kind's handler; run one per replica (supervised)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        handlers: Mapping[str, TimerHandler],
        *,
        poll_interval: float = 0.5,
        retry_delay: timedelta = timedelta(seconds=30),
        overdue_interval: float = 5.0,
    ) -> None:
        self.pool, self.handlers = pool, dict(handlers)
        self.poll_interval = poll_interval
        self.retry_delay = retry_delay
        self.overdue_interval = overdue_interval

    async def fire_one(self) -> bool:
        """Fire the most overdue timer, if any; True when one was taken. Raises on an outage."""
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
                    attributes = {"icam.timer.kind": timer.kind, "icam.timer.id": str(timer.id)}
                    with tracing.started(f"timer {timer.kind}", attributes):  # a trace of its own
                        await handler(conn, timer)
                        await conn.execute("update timers set fired_at = now() where id = $1", timer.id)
            except Exception as error:
                if row is None or is_transient(error):
                    raise
                await self._put_off(conn, row, error)
                return True
        TIMERS_FIRED.labels(timer.kind).inc()
        return True

    async def _put_off(self, conn: Connection, row: asyncpg.Record, error: Exception) -> None:
        log.error("timer_failed", timer_id=str(row["id"]), kind=row["kind"], **describe(error))
        await conn.execute("update timers set due_at = now() + $2 where id = $1", row["id"], self.retry_delay)

    async def run_due(self) -> int:
        """Fire every timer due now; return how many were taken."""
        fired = 0
        while await self.fire_one():
            fired += 1
        return fired

    async def report_overdue(self) -> dict[str, tuple[int, float]]:
        """Set `icam_timers_overdue{kind}` and `..._seconds{kind}`: due, unfired timers and the age
        of the oldest (0 for a kind with none); returns them by kind."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(_OVERDUE)
        found = {r["kind"]: (int(r["due"]), float(r["age"])) for r in rows}
        for kind in set(self.handlers) | set(found):
            due, age = found.get(kind, (0, 0.0))
            TIMERS_OVERDUE.labels(kind).set(due)
            TIMERS_OVERDUE_SECONDS.labels(kind).set(age)
        return found

    async def run(self) -> None:
        while True:
            await self.run_due()
            await asyncio.sleep(self.poll_interval)

    async def watch_overdue(self) -> None:
        """Report overdue timers every `overdue_interval` seconds, apart from `run`: a worker that
        is stuck or restarting shows as timers growing overdue."""
        while True:
            await self.report_overdue()
            await asyncio.sleep(self.overdue_interval)


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
